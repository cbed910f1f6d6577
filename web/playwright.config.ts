import { defineConfig } from '@playwright/test';

// Browser tests of the dashboard against the real binary: global-setup.ts
// starts `bin/synapse demo` (discordsim + every role) on free ports and
// tears it down. Chromium is Debian's (apt-get install chromium); Playwright
// never downloads a browser (PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1).
export default defineConfig({
	testDir: 'e2e',
	globalSetup: './e2e/global-setup.ts',
	fullyParallel: false,
	workers: 1,
	retries: 0,
	timeout: 120_000, // per test; generous for shared, loaded CI machines
	expect: { timeout: 15_000 },
	outputDir: '../artifacts/playwright',
	reporter: [['list']],
	use: {
		headless: true,
		viewport: { width: 1366, height: 900 },
		screenshot: 'only-on-failure',
		trace: 'retain-on-failure',
		launchOptions: { executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium', args: ['--no-sandbox'] }
	},
	projects: [{ name: 'chromium', use: { browserName: 'chromium' } }]
});
