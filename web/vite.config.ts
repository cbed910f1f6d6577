import { sveltekit } from '@sveltejs/kit/vite';
import tailwindcss from '@tailwindcss/vite';
import { defineConfig } from 'vite';

// `npm run dev` proxies the API to a running `synapse api` / `synapse demo`.
// @ts-expect-error: node's process, without @types/node
const api = process.env.SYNAPSE_API ?? 'http://127.0.0.1:8080';

export default defineConfig({
	plugins: [tailwindcss(), sveltekit()],
	server: { proxy: { '/api': api, '/healthz': api, '/readyz': api } },
	build: { chunkSizeWarningLimit: 300 }
});
