// One definition, in the core: the CLI reads a manifest with it too.
export { AnswerTooLarge, MAX_IDP_JSON_BYTES, readJsonBounded } from "@vymalo/oauth2-core";
