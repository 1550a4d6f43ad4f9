/**
 * The converters, loaded by path (the client's `payloadConverterPath` and
 * `failureConverterPath`), that read and write what the Python side does.
 *
 * Python's pydantic converter writes JSON as `{"encoding": "json/plain"}` with compact UTF-8
 * data, and reads any payload by its `encoding`: JSON.stringify under `json/plain` is the same
 * thing. `binary/null` and `binary/plain` are the same on both sides; Python's protobuf
 * encodings are never used by the onboarding.
 */
import {
  BinaryPayloadConverter,
  CompositePayloadConverter,
  DefaultFailureConverter,
  JsonPayloadConverter,
  UndefinedPayloadConverter,
} from '@temporalio/common';

export const payloadConverter = new CompositePayloadConverter(
  new UndefinedPayloadConverter(),
  new BinaryPayloadConverter(),
  new JsonPayloadConverter(),
);

// A failure's message and stack trace go into a payload, so the codec seals them too (the
// Python side: DefaultFailureConverterWithEncodedAttributes).
export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
