"""Draw the demo's sample selfie: a simple face, made here so that no real person's photo ships.

Run from the repository root: `.venv/bin/python scripts/make_sample_selfie.py [OUTPUT]`
(default `onboarding/assets/sample-selfie.jpg`). The drawing is deterministic; it must pass
`activities.selfies.inspection.inspect_image` (JPEG, 800x600, well under 800 KB).
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image, ImageDraw

WIDTH, HEIGHT = 800, 600
DEFAULT_OUTPUT = Path(__file__).resolve().parents[1] / "onboarding/assets/sample-selfie.jpg"


def draw_selfie() -> Image.Image:
    image = Image.new("RGB", (WIDTH, HEIGHT))
    draw = ImageDraw.Draw(image)
    # Vertical gradient background, sky blue to pale.
    for y in range(HEIGHT):
        t = y / (HEIGHT - 1)
        color = (int(120 + 100 * t), int(170 + 60 * t), int(230 + 20 * t))
        draw.line([(0, y), (WIDTH, y)], fill=color)
    cx = WIDTH // 2
    # Shoulders, neck, hair, then the face over them.
    draw.ellipse([cx - 260, 470, cx + 260, 800], fill=(60, 90, 140))
    draw.rectangle([cx - 45, 400, cx + 45, 500], fill=(214, 170, 135))
    draw.ellipse([cx - 165, 60, cx + 165, 330], fill=(70, 45, 30))
    draw.ellipse([cx - 140, 100, cx + 140, 450], fill=(230, 188, 150), outline=(180, 135, 100))
    # Eyes with pupils, brows.
    for ex in (cx - 55, cx + 55):
        draw.ellipse([ex - 28, 230, ex + 28, 262], fill=(255, 255, 255), outline=(90, 60, 40))
        draw.ellipse([ex - 11, 235, ex + 11, 257], fill=(60, 40, 25))
        draw.line([(ex - 32, 210), (ex + 32, 205)], fill=(70, 45, 30), width=6)
    # Nose and smile.
    draw.line([(cx, 265), (cx - 12, 330), (cx + 8, 335)], fill=(180, 130, 95), width=4)
    draw.arc([cx - 65, 330, cx + 65, 400], start=15, end=165, fill=(160, 50, 60), width=7)
    return image


def main(argv: list[str]) -> None:
    output = Path(argv[0]) if argv else DEFAULT_OUTPUT
    output.parent.mkdir(parents=True, exist_ok=True)
    draw_selfie().save(output, "JPEG", quality=85)
    print(f"{output}: {output.stat().st_size} bytes")


if __name__ == "__main__":
    main(sys.argv[1:])
