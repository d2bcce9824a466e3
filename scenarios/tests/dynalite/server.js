// Starts dynalite (the npm package, in-memory) on 127.0.0.1 at a free port and prints the port.
// Usage: node server.js DYNALITE_MODULE_DIR
// Tables become ACTIVE at once so the comparison needs no waiting.
const dynalite = require(process.argv[2]);
const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
server.listen(0, "127.0.0.1", () => {
  console.log(server.address().port);
});
