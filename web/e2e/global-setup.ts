// Starts `bin/synapse demo` (discordsim with a synthetic community + API,
// gateway and worker) on free ports, its own Redis database and the demo's
// own Postgres schema (synapse_demo, recreated at start) in the test
// database; waits for /readyz and for the first ledger credits; stops it
// after the run. The tests read where it listens from process.env.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import crypto from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { leaseRedis } from './redis-lease';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');

function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const s = net.createServer();
		s.on('error', reject);
		s.listen(0, '127.0.0.1', () => {
			const p = (s.address() as net.AddressInfo).port;
			s.close(() => resolve(p));
		});
	});
}

async function waitFor(what: string, ms: number, probe: () => Promise<boolean>, proc: ChildProcess) {
	const deadline = Date.now() + ms;
	let last = '';
	while (Date.now() < deadline) {
		if (proc.exitCode !== null) throw new Error(`synapse demo exited (${proc.exitCode}) before ${what}; see artifacts/e2e-demo.log`);
		try {
			if (await probe()) return;
		} catch (e) {
			last = String(e);
		}
		await new Promise((r) => setTimeout(r, 250));
	}
	throw new Error(`timed out after ${ms} ms waiting for ${what} ${last}`);
}

export default async function globalSetup() {
	const bin = process.env.SYNAPSE_BIN || path.join(repo, 'bin/synapse');
	if (!existsSync(bin)) throw new Error(`${bin} is missing: run make build (or set SYNAPSE_BIN)`);
	const artifacts = path.join(repo, 'artifacts');
	mkdirSync(path.join(artifacts, 'screenshots'), { recursive: true });

	const [httpPort, simPort] = [await freePort(), await freePort()];
	const redis = await leaseRedis(process.env.SYNAPSE_TEST_REDIS_URL || 'redis://127.0.0.1:6379/0');
	const operator = crypto.randomBytes(16).toString('hex');
	const base = `http://127.0.0.1:${httpPort}`;
	const log = createWriteStream(path.join(artifacts, 'e2e-demo.log'));
	const started = Date.now();
	const proc = spawn(bin, ['demo'], {
		cwd: repo,
		env: {
			...process.env,
			SYNAPSE_HTTP_ADDR: `127.0.0.1:${httpPort}`,
			SYNAPSE_SIM_LISTEN: `127.0.0.1:${simPort}`,
			SYNAPSE_DATABASE_URL: process.env.SYNAPSE_TEST_DATABASE_URL || 'postgres://synapse:synapse@127.0.0.1:5432/synapse_test?sslmode=disable',
			SYNAPSE_REDIS_URL: redis.url,
			SYNAPSE_OPERATOR_TOKEN: operator,
			SYNAPSE_LOG_FORMAT: 'json',
			SYNAPSE_SIM_GUILDS: '2',
			SYNAPSE_SIM_PENDING_GUILDS: '1',
			SYNAPSE_SIM_MEMBERS: '60',
			SYNAPSE_SIM_RATE: '30'
		},
		stdio: ['ignore', 'pipe', 'pipe']
	});
	let banner = '';
	proc.stdout!.pipe(log);
	proc.stderr!.on('data', (d: Buffer) => {
		if (banner.length < 20000) banner += d.toString();
		log.write(d);
	});

	const stop = async () => {
		if (proc.exitCode === null) {
			proc.kill('SIGTERM');
			await new Promise<void>((resolve) => {
				const t = setTimeout(() => {
					proc.kill('SIGKILL');
					resolve();
				}, 20_000);
				proc.on('exit', () => {
					clearTimeout(t);
					resolve();
				});
			});
		}
		log.end();
		await redis.release();
	};

	try {
		await waitFor('/readyz', 60_000, async () => (await fetch(base + '/readyz')).ok, proc);
		const guild = banner.match(/\/guilds\/(\d+)\//)?.[1];
		if (!guild) throw new Error('no guild id in the demo banner');
		// The Classic preset is installed once the gateway adopts the guild;
		// then the simulated activity earns XP within seconds.
		await waitFor('the first leaderboard entries', 90_000, async () => {
			const r = await fetch(`${base}/api/v1/guilds/${guild}/leaderboard?limit=3`, { headers: { Authorization: `Bearer ${operator}` } });
			return r.ok && ((await r.json()) as { items: unknown[] }).items.length >= 3;
		}, proc);
		console.log(`synapse demo ready at ${base} (discordsim :${simPort}, ${redis.url}) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
	} catch (e) {
		await stop();
		throw e;
	}

	process.env.SYNAPSE_E2E_URL = base;
	process.env.SYNAPSE_E2E_SIM = `http://127.0.0.1:${simPort}`;
	process.env.SYNAPSE_E2E_OPERATOR = operator;
	process.env.SYNAPSE_E2E_GUILD = banner.match(/\/guilds\/(\d+)\//)![1];
	return stop;
}
