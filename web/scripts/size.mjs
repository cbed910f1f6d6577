#!/usr/bin/env node
// Measures the gzipped JavaScript the dashboard's first load needs and fails
// above the budget (300 KB, issue #8). "First load" of a route is what a
// browser opening that URL directly fetches: SvelteKit's entry (start, app),
// the root layout and the route's layouts and page, every chunk they import
// statically, and the chunks their components import on mount (Chart.js on
// chart pages). The index page is the figure the target names; every other
// route is checked against the same budget.
//
// Read from Vite's manifest of the last `npm run build`; gzip level 9, as
// synapse api serves it.
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, '.svelte-kit/output/client');
const manifestPath = join(out, '.vite/manifest.json');
const nodesDir = join(root, '.svelte-kit/generated/client-optimized/nodes');
const BUDGET = Number(process.env.JS_BUDGET_KB ?? 300) * 1024;

if (!existsSync(manifestPath) || !existsSync(join(root, 'build/app/index.html'))) {
	console.error('size: no build found; run `npm run build` first');
	process.exit(2);
}
const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
const gz = new Map();
const gzSize = (file) => {
	if (!gz.has(file)) gz.set(file, gzipSync(readFileSync(join(out, file)), { level: 9 }).length);
	return gz.get(file);
};

// Each generated node module names the layout or page it wraps.
const nodeOf = new Map(); // "src/routes/…/+page.svelte" → manifest key
for (const f of readdirSync(nodesDir)) {
	const m = readFileSync(join(nodesDir, f), 'utf8').match(/src\/routes\/(.*?\+(?:page|layout)\.svelte)/);
	if (m) nodeOf.set('src/routes/' + m[1], `.svelte-kit/generated/client-optimized/nodes/${f}`);
}

function closure(keys, followDynamic) {
	const seen = new Set();
	const files = new Set();
	const visit = (k, dyn) => {
		if (seen.has(k)) return;
		seen.add(k);
		const e = manifest[k];
		if (!e) return;
		if (e.file.endsWith('.js')) files.add(e.file);
		for (const i of e.imports ?? []) visit(i, dyn);
		if (dyn) for (const i of e.dynamicImports ?? []) visit(i, dyn);
	};
	for (const [k, dyn] of keys) visit(k, dyn);
	return files;
}

const entries = Object.entries(manifest)
	.filter(([, e]) => e.isEntry && !e.src?.includes('client-optimized/nodes/'))
	.map(([k]) => [k, false]); // start and app; app's dynamic imports are the other routes

function routeFiles(page) {
	const parts = page.split('/').slice(2, -1); // directories below src/routes
	const keys = [...entries];
	for (let i = 0; i <= parts.length; i++) {
		const layout = ['src/routes', ...parts.slice(0, i), '+layout.svelte'].join('/');
		if (nodeOf.has(layout)) keys.push([nodeOf.get(layout), true]);
	}
	keys.push([nodeOf.get(page), true]);
	return closure(keys, false);
}

const sum = (files) => [...files].reduce((n, f) => n + gzSize(f), 0);
const kb = (n) => (n / 1024).toFixed(1) + ' KB';

const pages = [...nodeOf.keys()].filter((p) => p.endsWith('+page.svelte')).sort();
const rows = pages.map((p) => {
	const files = routeFiles(p);
	const route = '/' + p.split('/').slice(2, -1).join('/');
	return { route, files: files.size, bytes: sum(files) };
});
const index = rows.find((r) => r.route === '/');

console.log('gzipped JavaScript on first load (budget ' + kb(BUDGET) + ')');
for (const r of rows) console.log(`  ${r.bytes > BUDGET ? 'OVER' : 'ok  '}  ${kb(r.bytes).padStart(9)}  ${String(r.files).padStart(3)} files  ${r.route}`);
const all = sum(new Set(Object.values(manifest).map((e) => e.file).filter((f) => f.endsWith('.js'))));
console.log(`  index page: ${kb(index.bytes)}; every route's JS together: ${kb(all)}`);
if (process.env.SIZE_JSON) console.log(JSON.stringify({ index_gzip_bytes: index.bytes, routes: rows, all_js_gzip_bytes: all }));
const over = rows.filter((r) => r.bytes > BUDGET);
if (over.length) {
	console.error(`size: ${over.map((r) => r.route).join(', ')} over the ${kb(BUDGET)} budget`);
	process.exit(1);
}
