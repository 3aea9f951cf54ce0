#!/usr/bin/env node
import { runCli } from './program';

// Exit explicitly: engine driver pools and timers must not keep a finished command alive.
void runCli(process.argv.slice(2)).then((code) => process.exit(code));
