// The nats-server configuration `npm start` writes when it starts NATS itself (tools/start.mjs),
// kept here so deploy/k8s/manifests.spec.ts can check it with the local binary's own config test
// (`nats-server -c <file> -t`), as it checks the Kubernetes one.
//
// Only settings Debian's nats-server 2.9.10 accepts (it refuses `sync_interval`, a 2.10+ setting),
// so JetStream syncs to disk on the server's default schedule: every 2 minutes. An acknowledged
// message is in the server's file store (the OS page cache): it survives a nats-server crash, and
// can be lost with the last 2 minutes of writes if the machine itself crashes or loses power
// (docs/operations.md, "Durability").

/** nats.conf text for a single local server on 127.0.0.1:`port` with JetStream data in `storeDir`. */
function localNatsConfig({ port, storeDir }) {
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`invalid NATS port ${port}`);
  return [
    '# Written by `npm start` (tools/local-nats.cjs) at every start; edits are overwritten.',
    'host: 127.0.0.1',
    `port: ${port}`,
    'jetstream {',
    // JSON string escaping is also valid in a NATS config's double-quoted strings.
    `  store_dir: ${JSON.stringify(storeDir)}`,
    '}',
    '',
  ].join('\n');
}

module.exports = { localNatsConfig };
