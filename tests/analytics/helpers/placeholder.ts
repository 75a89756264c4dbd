/** Debezium's unavailable.value.placeholder, as the tests write it into change files. */
export const PLACEHOLDER_TEXT = "__debezium_unavailable_value";
