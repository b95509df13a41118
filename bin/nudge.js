#!/usr/bin/env node
// Runs the TypeScript sources directly: Node 24 strips types on load.
import '../src/cli/main.ts'
