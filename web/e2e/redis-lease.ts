// A Redis database for the demo under test, leased the way the Go tests
// lease theirs (infra/testenv/redis.go: SET NX synapse:test:dblease:N in
// database 0, 10 minute TTL), so a browser run never shares asynq queues
// with a Go test or a developer's demo. Plain RESP over a socket: no client
// library needed.
import net from 'node:net';
import crypto from 'node:crypto';

function command(host: string, port: number, cmds: string[][]): Promise<string[]> {
	return new Promise((resolve, reject) => {
		const sock = net.connect(port, host);
		let buf = '';
		const out: string[] = [];
		sock.setTimeout(5000, () => sock.destroy(new Error('redis: timeout')));
		sock.on('error', reject);
		sock.on('data', (d) => {
			buf += d.toString('utf8');
			// Replies here are simple strings, errors, integers or bulk strings.
			while (buf.length) {
				const nl = buf.indexOf('\r\n');
				if (nl < 0) return;
				const head = buf.slice(0, nl);
				if (head[0] === '$') {
					const n = Number(head.slice(1));
					if (n < 0) {
						out.push('');
						buf = buf.slice(nl + 2);
					} else {
						if (buf.length < nl + 2 + n + 2) return;
						out.push(buf.slice(nl + 2, nl + 2 + n));
						buf = buf.slice(nl + 2 + n + 2);
					}
				} else {
					out.push(head);
					buf = buf.slice(nl + 2);
				}
				if (out.length === cmds.length) {
					sock.end();
					resolve(out);
				}
			}
		});
		sock.write(cmds.map((c) => `*${c.length}\r\n` + c.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')).join(''));
	});
}

export interface Lease {
	url: string;
	release: () => Promise<void>;
}

export async function leaseRedis(base: string): Promise<Lease> {
	const u = new URL(base);
	const host = u.hostname || '127.0.0.1';
	const port = Number(u.port || 6379);
	const owner = crypto.randomBytes(8).toString('hex');
	const deadline = Date.now() + 120_000;
	while (Date.now() < deadline) {
		for (let n = 15; n >= 1; n--) {
			const key = `synapse:test:dblease:${n}`;
			const [ok] = await command(host, port, [['SET', key, owner, 'NX', 'PX', '600000']]);
			if (ok === '+OK') {
				await command(host, port, [['SELECT', String(n)], ['FLUSHDB']]);
				return {
					url: `redis://${host}:${port}/${n}`,
					release: async () => {
						await command(host, port, [['SELECT', String(n)], ['FLUSHDB']]);
						const [v] = await command(host, port, [['GET', key]]);
						if (v === owner) await command(host, port, [['DEL', key], ['LPUSH', 'synapse:test:dbfreed', '1'], ['LTRIM', 'synapse:test:dbfreed', '0', '15']]);
					}
				};
			}
		}
		await new Promise((r) => setTimeout(r, 1000));
	}
	throw new Error('no free Redis test database (1-15) after 2 minutes');
}
