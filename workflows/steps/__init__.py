"""The steps of the journey, one module each: what it needs, what it calls, what it adds to
the result. Each takes its calls from the onboarding's `Journey`, within its own time budget."""
