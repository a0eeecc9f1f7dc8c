// A command line for @thinkwell/conductor (it has none): serves the editor on stdin/stdout and
// runs the chain `PROXY... AGENT` (each argument one command string, split on spaces).
//   node thinkwell_conductor.mjs "proxy args" … "agent args"
import { Conductor, fromCommands } from "@thinkwell/conductor";
import { createInterface } from "node:readline";

const commands = process.argv.slice(2);
if (commands.length === 0) {
  process.stderr.write("usage: thinkwell_conductor.mjs [PROXY...] AGENT\n");
  process.exit(2);
}

const stdioClient = {
  async connect() {
    const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
    return {
      send(message) {
        process.stdout.write(JSON.stringify(message) + "\n");
      },
      messages: {
        async *[Symbol.asyncIterator]() {
          for await (const line of lines) if (line.trim()) yield JSON.parse(line);
        },
      },
      async close() {
        lines.close();
      },
    };
  },
};

const conductor = new Conductor({ instantiator: fromCommands(commands), mcpBridgeMode: "disabled" });
process.stdin.on("end", () => {
  conductor.shutdown().finally(() => process.exit(0));
});
await conductor.connect(stdioClient);
await conductor.shutdown();
process.exit(0);
