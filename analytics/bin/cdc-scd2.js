#!/usr/bin/env node
// Committed shim so npm links the bin at install time; the CLI itself is built into dist/.
require("../dist/analytics/src/cli.js");
