import adapter from '@sveltejs/adapter-static';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** @type {import('@sveltejs/kit').Config} */
export default {
	preprocess: vitePreprocess(),
	kit: {
		// A single-page app: every route is rendered in the browser and
		// synapse api serves index.html for any path it does not know.
		adapter: adapter({ pages: 'build/app', assets: 'build/app', fallback: 'index.html', precompress: false, strict: true }),
		output: { bundleStrategy: 'split' }
	}
};
