// The benchmark's targets, in their own process so their CPU is not counted against the probes.
// Listens on several loopback ports (spreading connections over more address pairs) and prints
// {"tcp":[ports],"http":[ports]} on one line once ready. Exits when its parent closes stdin.
import http from 'node:http';
import net from 'node:net';

const PORTS_PER_KIND = Number(process.argv[2] ?? 8);

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => resolve((server.address() as net.AddressInfo).port));
  });
}

const BODY = Buffer.from('{"status":"ok"}');
const tcp: number[] = [];
const web: number[] = [];
for (let i = 0; i < PORTS_PER_KIND; i++) {
  const t = net.createServer((s) => {
    s.on('error', () => undefined);
    // Hang up after a second in case a client never does, so sockets cannot pile up.
    s.setTimeout(1000, () => s.destroy());
  });
  tcp.push(await listen(t));
  const h = http.createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': BODY.length });
    res.end(BODY);
  });
  h.on('clientError', (_err, socket) => socket.destroy());
  web.push(await listen(h));
}
process.stdout.write(`${JSON.stringify({ tcp, http: web })}\n`);
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
process.stdin.on('close', () => process.exit(0));
