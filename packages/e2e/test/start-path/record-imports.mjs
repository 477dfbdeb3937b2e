// `node --import ./record-imports.mjs …`: appends the URL of every module the process resolves
// to the file named by $RECORD_IMPORTS_TO, so a test can see what a code path loaded.
import { register } from "node:module";

register("./record-imports-hooks.mjs", import.meta.url, {
  data: { out: process.env.RECORD_IMPORTS_TO },
});
