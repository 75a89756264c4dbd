/**
 * numeric as Debezium maps it per decimal.handling.mode (data-contract.md §3): Decimal bytes with the column's
 * scale, VariableScaleDecimal without a typmod, FLOAT64 or STRING.
 */
import {
  DECIMAL_NAME,
  PRECISION_PARAMETER,
  decimalToPlainString,
  logicalSchema as logical,
  parseDecimal,
  twosComplementBytes,
  type DecimalValue,
} from "./connect-schema";
import type { ColumnMapping, TypeModes } from "./pg-types";

/**
 * A value Debezium's converter fails on: TableSchemaBuilder logs it and emits null for the column (an array
 * holding one is null as a whole).
 */
export class UnconvertibleValue extends Error {}

/** Precise decimals cannot carry NaN/Infinity (SpecialValueDecimal.fromLogical throws). */
function preciseDecimalText(text: string): string {
  if (!/^[+-]?\d/.test(text)) throw new UnconvertibleValue(`${text} in decimal.handling.mode=precise`);
  return text;
}

/** float4/float8/numeric text (NaN and infinities spelled as PostgreSQL prints them) → number. */
export const toNumber = (text: string): number => {
  if (text === "NaN") return NaN;
  if (text === "Infinity") return Infinity;
  if (text === "-Infinity") return -Infinity;
  return Number(text);
};

/**
 * BigDecimal.stripTrailingZeros, then no negative scale (setScale(0)): what Debezium does to a numeric
 * without typmod before making it a VariableScaleDecimal (40.00 → 40, 1.50 → 1.5).
 */
function stripTrailingZeros(value: DecimalValue): DecimalValue {
  let { unscaled, scale } = value;
  while (scale > 0 && unscaled % 10n === 0n) {
    unscaled /= 10n;
    scale -= 1;
  }
  return { kind: "decimal", unscaled, scale };
}

/** SpecialValueDecimal's names, which decimal.handling.mode=string writes for NaN and the infinities. */
const SPECIAL_NAMES: Record<string, string> = {
  NaN: "NAN",
  Infinity: "POSITIVE_INFINITY",
  "-Infinity": "NEGATIVE_INFINITY",
};

/** NaN or an infinity, as PostgreSQL prints them in a numeric. */
export const isSpecialNumeric = (text: string): boolean => text in SPECIAL_NAMES;

export function numericMapping(typmod: number, modes: TypeModes): ColumnMapping {
  const fixedScale = typmod >= 4 ? (typmod - 4) & 0xffff : undefined;
  if (modes.decimalHandlingMode === "double") {
    return { schema: { type: "FLOAT64", optional: true }, convert: toNumber, fallback: 0 };
  }
  if (modes.decimalHandlingMode === "string") {
    // BigDecimal.toPlainString at the column's scale (a default of 1.5 reads 1.50 in numeric(6,2)).
    return {
      schema: { type: "STRING", optional: true },
      convert: (t) => SPECIAL_NAMES[t] ?? decimalToPlainString(parseDecimal(t, fixedScale)),
      fallback: decimalToPlainString({ kind: "decimal", unscaled: 0n, scale: fixedScale ?? 0 }),
    };
  }
  if (fixedScale !== undefined) {
    const precision = ((typmod - 4) >> 16) & 0xffff;
    const scale = fixedScale;
    return {
      schema: logical("BYTES", DECIMAL_NAME, {
        parameters: { scale: String(scale), [PRECISION_PARAMETER]: String(precision) },
      }),
      convert: (t) => parseDecimal(preciseDecimalText(t), scale),
      fallback: { kind: "decimal", unscaled: 0n, scale },
    };
  }
  return {
    schema: logical("STRUCT", "io.debezium.data.VariableScaleDecimal", {
      doc: "Variable scaled decimal",
      fields: [
        { name: "scale", schema: { type: "INT32", optional: false } },
        { name: "value", schema: { type: "BYTES", optional: false } },
      ],
    }),
    convert: (t) => {
      const d = stripTrailingZeros(parseDecimal(preciseDecimalText(t)));
      return { scale: d.scale, value: twosComplementBytes(d.unscaled) };
    },
    fallback: { scale: 0, value: Buffer.from([0]) },
  };
}
