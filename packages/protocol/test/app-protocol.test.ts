import { describe, expect, expectTypeOf, it } from "vitest";
import * as z from "zod/mini";
import {
  type ClientDataOf,
  defineProtocol,
  type ServerDataOf,
  type StandardSchemaV1,
  validateData,
} from "../src/index.js";

const chat = defineProtocol({
  client: z.object({ text: z.string() }),
  server: z.object({ from: z.string(), text: z.string() }),
});

describe("defineProtocol", () => {
  it("carries each direction's data type", () => {
    expectTypeOf<ClientDataOf<typeof chat>>().toEqualTypeOf<{ text: string }>();
    expectTypeOf<ServerDataOf<typeof chat>>().toEqualTypeOf<{ from: string; text: string }>();
  });

  it("is frozen", () => {
    expect(Object.isFrozen(chat)).toBe(true);
  });
});

describe("validateData", () => {
  it("passes valid data and returns the schema's output", () => {
    expect(validateData(chat.client, { text: "hi", extra: 1 })).toEqual({
      ok: true,
      value: { text: "hi" },
    });
  });

  it("explains invalid data with the path of the first issue", () => {
    const result = validateData(chat.client, { text: 5 });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toMatch(/^data\.text: /);
  });

  it("passes anything when there is no schema", () => {
    expect(validateData(undefined, [1, "x"])).toEqual({ ok: true, value: [1, "x"] });
  });

  it("refuses asynchronous schemas instead of reordering messages", () => {
    const asyncSchema: StandardSchemaV1<unknown, string> = {
      "~standard": {
        version: 1,
        vendor: "test",
        validate: async (v) => ({ value: String(v) }),
      },
    };
    expect(validateData(asyncSchema, 1)).toEqual({
      ok: false,
      message: "asynchronous schemas are not supported",
    });
  });

  it("turns a throwing schema into an invalid result", () => {
    const throwing: StandardSchemaV1<unknown, string> = {
      "~standard": {
        version: 1,
        vendor: "test",
        validate: () => {
          throw new Error("boom");
        },
      },
    };
    expect(validateData(throwing, 1)).toMatchObject({ ok: false, message: /boom/ });
  });
});
