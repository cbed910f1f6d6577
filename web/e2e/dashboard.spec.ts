import { expect, test, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// The dashboard in a real browser against `synapse demo` (global-setup.ts):
// Login with Discord through discordsim's consent page, a guild admin's
// tour, and a member without a role being refused.

const base = () => process.env.SYNAPSE_E2E_URL!;
const guild = () => process.env.SYNAPSE_E2E_GUILD!;
const shots = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../artifacts/screenshots');

async function api<T>(p: string): Promise<T> {
	const r = await fetch(base() + '/api/v1' + p, { headers: { Authorization: `Bearer ${process.env.SYNAPSE_E2E_OPERATOR}` } });
	expect(r.ok, `GET ${p}: ${r.status}`).toBeTruthy();
	return (await r.json()) as T;
}

/** A write as the platform operator (the demo's operator token). */
async function apiWrite<T>(method: string, p: string, body: unknown): Promise<T> {
	const r = await fetch(base() + '/api/v1' + p, {
		method,
		headers: { Authorization: `Bearer ${process.env.SYNAPSE_E2E_OPERATOR}`, 'Content-Type': 'application/json' },
		body: JSON.stringify(body)
	});
	const text = await r.text();
	expect(r.ok, `${method} ${p}: ${r.status} ${text}`).toBeTruthy();
	return JSON.parse(text) as T;
}

interface Billing {
	plan: string;
	subscription: { status: string };
	limits: Record<'guilds' | 'currencies' | 'rules' | 'milestones' | 'retention_days', number>;
	usage: Record<'guilds' | 'currencies' | 'rules' | 'milestones', number>;
	plans: { id: string; name: string; self_serve: boolean; purchasable: boolean; currency: string; price_monthly_cents: number }[];
	stripe_enabled: boolean;
}

/** Follows a link of the guild's side navigation. */
async function nav(page: Page, name: string) {
	await page.getByRole('navigation').getByRole('link', { name, exact: true }).click();
}

/** Closes the toasts still shown, so that a screenshot shows the page. */
async function dismissToasts(page: Page) {
	await page.locator('[data-testid^="toast-"] button[aria-label="Dismiss"]').evaluateAll((bs) => bs.forEach((b) => (b as HTMLButtonElement).click()));
}

async function shot(page: Page, name: string, fullPage = false) {
	await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage });
}

/** Logs in through discordsim's consent page as the user `pick` chooses. */
async function login(page: Page, pick: (opts: { value: string; label: string }[]) => string) {
	await page.goto(base() + '/');
	await page.getByTestId('login').click();
	await expect(page.locator('#login_as')).toBeVisible(); // discordsim's consent page
	expect(new URL(page.url()).origin).toBe(process.env.SYNAPSE_E2E_SIM);
	const opts = await page.locator('#login_as option').evaluateAll((os) => os.map((o) => ({ value: (o as HTMLOptionElement).value, label: o.textContent ?? '' })));
	const who = pick(opts);
	await page.selectOption('#login_as', who);
	await page.locator('#authorize').click();
	await page.waitForURL(base() + '/');
	return opts.find((o) => o.value === who)!;
}

/** A page that throws fails the test, whatever it shows. */
function failOnPageErrors(page: Page) {
	page.on('pageerror', (e) => {
		throw new Error(`uncaught error in the page: ${e.message}\n${e.stack}`);
	});
}

test('the first load needs at most 300 KB of gzipped JavaScript', async ({ page }) => {
	failOnPageErrors(page);
	const js = new Map<string, number>();
	page.on('response', async (r) => {
		if (!r.url().endsWith('.js')) return;
		const h = await r.allHeaders();
		const size = Number(h['content-length']);
		if (size > 1024) expect(h['content-encoding'], r.url()).toBe('gzip'); // tiny files go as they are
		expect(h['cache-control'], r.url()).toContain('immutable');
		js.set(r.url(), size);
	});
	const index = await page.goto(base() + '/');
	expect(index!.headers()['cache-control']).toBe('no-cache');
	await expect(page.getByTestId('login')).toBeVisible();
	await page.waitForLoadState('networkidle');
	const total = [...js.values()].reduce((a, b) => a + b, 0);
	console.log(`first load: ${js.size} JavaScript files, ${(total / 1024).toFixed(1)} KB gzipped on the wire`);
	expect(js.size).toBeGreaterThan(0);
	expect(total).toBeLessThanOrEqual(300 * 1024);
});

test.describe.serial('a guild admin', () => {
	let page: Page;
	let name = '';
	let tenant = 0;
	let userId = '';
	test.beforeAll(async ({ browser }) => {
		page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
		failOnPageErrors(page);
		const o = await api<{ guild: { name: string; tenant_id: number } }>(`/guilds/${guild()}/overview`);
		name = o.guild.name;
		tenant = o.guild.tenant_id;
	});
	test.afterAll(async () => {
		await page.close();
	});

	test('log in with Discord as the guild owner', async () => {
		const chosen = await login(page, (opts) => opts.find((o) => o.label.includes(`(owner of ${name})`))!.value);
		const me = await page.evaluate(async () => (await fetch('/api/v1/me')).json());
		expect(me.user.id).toBe(chosen.value);
		userId = me.user.id;
		await expect(page.getByTestId('whoami')).toHaveText(me.user.global_name || me.user.username);
	});

	test('pick the guild', async () => {
		const card = page.getByTestId('guild-card').filter({ hasText: name });
		await expect(card).toBeVisible();
		await expect(card).toContainText('guild admin');
		await shot(page, '01-guild-picker');
		await card.click();
		await expect(page.getByTestId('guild-name')).toHaveText(name);
		await expect(page.getByTestId('overview-stats')).toContainText('Members');
		await expect(page.locator('canvas').first()).toBeVisible();
		await shot(page, '02-overview');
	});

	test('read the leaderboard', async () => {
		await nav(page, 'Leaderboard');
		const rows = page.getByTestId('leaderboard').locator('tbody tr');
		await expect(rows.first()).toBeVisible();
		// What the page shows is what the API ranks, read at the same moment.
		const [board] = await Promise.all([
			page.waitForResponse((r) => r.url().includes('/leaderboard?') && r.ok()).then((r) => r.json()),
			page.reload()
		]);
		const first = board.items[0];
		await expect(page.getByTestId('champion')).toContainText(first.name || first.user_id);
		await expect(rows).toHaveCount(board.items.length);
		await expect(rows.first()).toContainText(first.name || first.user_id);
		await shot(page, '03-leaderboard');

		await rows.first().getByTestId('leaderboard-member').click();
		await expect(page.getByTestId('wallets')).toContainText('XP');
		await expect(page.getByTestId('award-form')).toBeVisible();
		await shot(page, '04-member-profile');
	});

	const ruleName = `E2E helpful answers ${Date.now()}`;
	let ruleId = '';
	const doc = (seconds: number) => ({
		name: ruleName,
		trigger: { events: ['message_create'] },
		conditions: [{ type: 'not_bot' }, { type: 'cooldown', seconds }],
		effects: [{ type: 'credit', currency: 'xp', base: 5, amount: 'base' }]
	});

	test('a rule the API refuses shows the error at the offending field', async () => {
		await page.goto(`${base()}/g/${guild()}/rules`);
		await expect(page.getByTestId('rule-row').first()).toBeVisible();
		await shot(page, '05-rules');
		await page.getByTestId('new-rule').click();
		const bad = JSON.stringify(doc(-5), null, 2);
		const badLine = bad.split('\n').findIndex((l) => l.includes('"seconds": -5')) + 1;
		await page.getByTestId('rule-json').fill(bad);
		await page.getByTestId('save-rule').click();
		await expect(page.getByTestId('rule-error')).toContainText('document.conditions[1].seconds');
		// The editor marks the line of "seconds": -5, where the API says the problem is.
		await expect(page.getByTestId('rule-error')).toContainText(`line ${badLine} ·`);
		await expect(page.getByTestId('rule-json-error')).toBeVisible();
		await expect(page.getByTestId('toast-error')).toContainText('request id');
		await shot(page, '06-rule-validation-error');
	});

	test('dry-run the draft against the guild’s recent events', async () => {
		await page.getByTestId('rule-json').fill(JSON.stringify(doc(30), null, 2));
		const [dry] = await Promise.all([
			page.waitForResponse((r) => r.url().endsWith('/rules/dry-run') && r.status() === 200).then((r) => r.json()),
			page.getByTestId('dry-run').click()
		]);
		expect(dry.events).toBeGreaterThan(0);
		await expect(page.getByTestId('dry-run-summary')).toContainText(`${dry.events} recent events`);
		await expect(page.getByTestId('dry-run-summary')).toContainText(`${dry.fired} would fire`);
		await expect(page.getByTestId('rule-error')).toHaveCount(0);
		await shot(page, '07-rule-dry-run');
	});

	test('backtest the draft over the last day in the workers', async () => {
		const panel = page.getByTestId('backtest-panel');
		await panel.getByRole('combobox').selectOption('1');
		await panel.getByRole('button', { name: /Backtest/ }).click();
		await expect(panel).toContainText('done', { timeout: 60_000 });
		await expect(panel.locator('table tbody tr').filter({ hasText: 'xp' })).toBeVisible();
	});

	test('create the rule', async () => {
		await page.getByTestId('save-rule').click();
		await page.waitForURL(new RegExp(`/g/${guild()}/rules/\\d+$`));
		ruleId = page.url().split('/').pop()!;
		await expect(page.getByRole('heading', { level: 1 })).toContainText(ruleName);
		const stored = await api<{ rule: { name: string; enabled: boolean; document: { conditions: { seconds?: number }[] } } }>(`/guilds/${guild()}/rules/${ruleId}`);
		expect(stored.rule.name).toBe(ruleName);
		expect(stored.rule.document.conditions[1].seconds).toBe(30);

		await page.getByRole('link', { name: '← Rules' }).click();
		const row = page.getByTestId('rule-row').filter({ hasText: ruleName });
		await expect(row).toBeVisible();
		const toggle = row.getByTestId('rule-toggle');
		const was = (await toggle.getAttribute('aria-checked')) === 'true';
		await toggle.click();
		await expect(toggle).toHaveAttribute('aria-checked', String(!was));
		const after = await api<{ rule: { enabled: boolean } }>(`/guilds/${guild()}/rules/${ruleId}`);
		expect(after.rule.enabled).toBe(!was);
	});

	test('see the creation in the audit log, key by key', async () => {
		await nav(page, 'Audit log');
		const entry = page.getByTestId('audit-entry').filter({ hasText: `rule:${ruleId}` }).filter({ has: page.getByTestId('audit-action').getByText('rule.create', { exact: true }) });
		await expect(entry).toBeVisible();
		const nameRow = entry.locator('[data-diff="added"]').filter({ hasText: /^\+?\s*name/ });
		await expect(nameRow.first()).toContainText(ruleName);
		await expect(entry.locator('[data-diff="removed"]')).toHaveCount(0);
		// The toggle is audited too: enabled flipped, shown as a change.
		const toggled = page.getByTestId('audit-entry').filter({ hasText: `rule:${ruleId}` }).filter({ has: page.getByTestId('audit-action').getByText(/^rule\.(enable|disable)$/) });
		await expect(toggled.locator('[data-diff="changed"]').filter({ hasText: 'enabled' })).toBeVisible();
		await shot(page, '08-audit-log', false);
	});

	test('the other pages render real data', async () => {
		for (const [link, testid, file] of [
			['Activity', 'activity', '09-activity'],
			['Achievements', 'achievements', '10-achievements'],
			['Currencies', 'currencies', '11-currencies'],
			['Zones', 'zones', '12-zones'],
			['Data Sources', 'capture-toggles', '13-data-sources'],
			['Settings', 'settings-form', '14-settings']
		] as const) {
			await nav(page, link);
			await expect(page.getByTestId(testid)).toBeVisible();
			await expect(page.getByTestId('skeleton')).toHaveCount(0);
			await shot(page, file);
		}
	});

	test('an unclaimed community shows its admin the claim banner, and no Billing link', async () => {
		// The gateway made the guild's tenant when the bot was there before anyone signed up: nobody owns it.
		expect((await api<{ items: unknown[] }>(`/tenants/${tenant}/members`)).items, 'the demo tenant has no operator').toHaveLength(0);
		await page.goto(`${base()}/g/${guild()}`);
		const me = await page.evaluate(async () => (await fetch('/api/v1/me')).json());
		const mine = (me.guilds as { guild_id: string; unclaimed: boolean; roles: string[] }[]).find((g) => g.guild_id === guild())!;
		expect(mine.unclaimed).toBe(true);
		expect(mine.roles).toContain('guild_admin');
		expect(me.tenants).toHaveLength(0);
		const banner = page.getByTestId('unclaimed-banner');
		await expect(banner).toContainText(`Nobody runs ${name} in Synapse yet`);
		await expect(banner.getByRole('button', { name: 'Claim it' })).toBeEnabled();
		const links = page.getByRole('navigation');
		await expect(links.getByRole('link', { name: 'Audit log', exact: true })).toBeVisible();
		await expect(links.getByRole('link', { name: 'Billing', exact: true })).toHaveCount(0);
		// The API agrees: the tenant's billing is for its owners and admins.
		const status = await page.evaluate(async (t) => (await fetch(`/api/v1/tenants/${t}/billing`)).status, tenant);
		expect([403, 404]).toContain(status);
		await shot(page, '21-unclaimed-banner');
	});

	test('claiming it makes the admin the tenant’s owner: Billing appears, no operator involved', async () => {
		const [claimed] = await Promise.all([
			page.waitForResponse((r) => r.url().endsWith(`/api/v1/guilds/${guild()}/claim`) && r.request().method() === 'POST'),
			page.getByTestId('claim').click()
		]);
		expect(claimed.status()).toBe(200);
		expect(((await claimed.json()) as { tenant_id: string; outcome: string }).tenant_id).toBe(String(tenant));
		await expect(page.getByTestId('toast-ok')).toContainText(`${name} is yours`);
		await expect(page.getByTestId('unclaimed-banner')).toHaveCount(0);
		// The session was read again: the tenant role shows the Billing link without a reload.
		await expect(page.getByRole('navigation').getByRole('link', { name: 'Billing', exact: true })).toBeVisible();
		await shot(page, '22-claimed');
		// What the operator reads: the user owns the tenant, which is no longer unclaimed.
		const members = await api<{ items: { user_id: string; role: string }[] }>(`/tenants/${tenant}/members`);
		expect(members.items).toContainEqual(expect.objectContaining({ user_id: userId, role: 'owner' }));
		const me = await page.evaluate(async () => (await fetch('/api/v1/me')).json());
		expect(me.tenants).toContainEqual(expect.objectContaining({ tenant_id: tenant, role: 'owner' }));
		expect(me.guilds.find((g: { guild_id: string }) => g.guild_id === guild()).unclaimed).toBe(false);
		// A second claim is refused: it is somebody's now.
		const again = await page.evaluate(async (g) => {
			const csrf = document.cookie.match(/(?:^|; )synapse_csrf=([^;]*)/)?.[1] ?? '';
			return (await fetch(`/api/v1/guilds/${g}/claim`, { method: 'POST', headers: { 'X-CSRF-Token': decodeURIComponent(csrf), 'Content-Type': 'application/json' }, body: '{}' })).status;
		}, guild());
		expect(again).toBe(409);
	});

	test('as the tenant’s owner, Billing shows the plan and usage, and no purchase without Stripe', async () => {
		await page.goto(`${base()}/g/${guild()}`);
		await expect(page.getByTestId('guild-name')).toHaveText(name);
		const [billing] = await Promise.all([
			page.waitForResponse((r) => r.url().endsWith(`/api/v1/tenants/${tenant}/billing`) && r.ok()).then((r) => r.json() as Promise<Billing>),
			nav(page, 'Billing')
		]);
		await page.waitForURL(`${base()}/g/${guild()}/billing`);
		// What the operator reads, independently of the page.
		const direct = await api<Billing>(`/tenants/${tenant}/billing`);
		expect(direct.plan).toBe(billing.plan);
		expect(direct.usage).toEqual(billing.usage);
		expect(billing.stripe_enabled, 'the demo runs without Stripe').toBe(false);

		const fmt = new Intl.NumberFormat('en-US');
		const planName = billing.plans.find((p) => p.id === billing.plan)!.name;
		await expect(page.getByTestId('current-plan')).toHaveText(planName);
		await expect(page.getByTestId('subscription-status')).toHaveText('no subscription');
		for (const k of ['guilds', 'currencies', 'rules', 'milestones'] as const) {
			await expect(page.getByTestId(`usage-${k}-used`)).toHaveText(fmt.format(billing.usage[k]));
			await expect(page.getByTestId(`usage-${k}-limit`)).toHaveText(billing.limits[k] === 0 ? 'unlimited' : fmt.format(billing.limits[k]));
		}
		await expect(page.locator(`[data-testid="plan-card"][data-plan="${billing.plan}"]`).getByTestId('current-badge')).toBeVisible();
		await expect(page.getByTestId('plan-card')).toHaveCount(billing.plans.length);
		// An owner is offered the bigger self-serve plans, but cannot buy them here.
		await expect(page.getByTestId('billing-disabled')).toContainText('Billing is not configured on this deployment');
		const upgrades = page.getByTestId('upgrade');
		expect(await upgrades.count()).toBeGreaterThan(0);
		for (const b of await upgrades.all()) await expect(b).toBeDisabled();
		// Checkout sells nothing here, as the API says plan by plan; prices in the plan's currency.
		for (const p of billing.plans) {
			expect(p.purchasable, `${p.id} purchasable`).toBe(false);
			if (p.price_monthly_cents > 0) {
				const money = new Intl.NumberFormat('en-US', { style: 'currency', currency: p.currency.toUpperCase(), minimumFractionDigits: 0 }).format(p.price_monthly_cents / 100);
				await expect(page.locator(`[data-testid="plan-card"][data-plan="${p.id}"]`)).toContainText(money);
			}
		}
		await expect(page.getByTestId('manage-billing')).toHaveCount(0); // never subscribed
		await shot(page, '18-billing', true);
	});

	test('a currency past the plan’s limit is refused with the way to Billing', async () => {
		const billing = await api<Billing>(`/tenants/${tenant}/billing`);
		const have = (await api<{ items: unknown[] }>(`/guilds/${guild()}/currencies`)).items.length;
		const limit = billing.limits.currencies;
		test.skip(limit === 0 || have < limit, `the guild has ${have} currencies, the ${billing.plan} plan allows ${limit}: room for another`);
		await nav(page, 'Currencies');
		await page.getByRole('button', { name: '+ New currency' }).click();
		await page.locator('#c-code').fill('e2e');
		await page.locator('#c-name').fill('E2E coins');
		const [refused] = await Promise.all([
			page.waitForResponse((r) => r.url().endsWith(`/guilds/${guild()}/currencies`) && r.request().method() === 'POST'),
			page.getByRole('dialog').getByRole('button', { name: 'Create', exact: true }).click()
		]);
		expect(refused.status()).toBe(402);
		const msg = ((await refused.json()) as { error: { code: string; message: string } }).error;
		expect(msg.code).toBe('plan_limit');
		await expect(page.getByTestId('plan-limit')).toContainText(msg.message);
		await expect(page.getByTestId('toast-error')).toContainText('See plans in Billing');
		await shot(page, '19-plan-limit');
		await page.getByTestId('plan-limit-billing').click();
		await page.waitForURL(`${base()}/g/${guild()}/billing`);
		await expect(page.getByTestId('usage-currencies-used')).toHaveText(String(have));
	});

	test('back from Stripe, /billing forwards to the owned tenant’s Billing page with its query', async () => {
		const me = await page.evaluate(async () => (await fetch('/api/v1/me')).json());
		const owned = (me.guilds as { guild_id: string; tenant_id: string }[]).filter((g) => g.tenant_id === String(tenant)).map((g) => g.guild_id).sort();
		expect(owned).toContain(guild());
		await page.goto(`${base()}/billing?checkout=success`);
		await page.waitForURL(`${base()}/g/${owned[0]}/billing?checkout=success`);
		await expect(page.getByTestId('checkout-banner')).toContainText('can take a moment');
		await expect(page.getByTestId('current-plan')).toBeVisible();
		await shot(page, '20-checkout-success');
		await page.getByTestId('checkout-banner').getByRole('button', { name: 'Dismiss' }).click();
		await page.waitForURL(`${base()}/g/${owned[0]}/billing`);
		await expect(page.getByTestId('checkout-banner')).toHaveCount(0);

		await page.goto(`${base()}/billing?checkout=cancelled`);
		await page.waitForURL(`${base()}/g/${owned[0]}/billing?checkout=cancelled`);
		await expect(page.getByTestId('checkout-banner')).toContainText('Checkout cancelled');
	});

	// Recipes: the guild's configuration as one YAML document, exported and
	// imported back. The demo guild has the Classic preset, whose zones have
	// no channels; the Free plan's currencies are all used by it.
	type Section = { create: string[]; same: string[]; differs: string[] };
	type RecipePlan = Record<'currencies' | 'zones' | 'rules' | 'milestones', Section> & { warnings: string[]; applied: boolean };
	const sections = ['currencies', 'zones', 'rules', 'milestones'] as const;
	let recipe = ''; // the downloaded YAML
	const recipeFile = path.resolve(shots, '..', 'e2e-recipe.yaml');
	const newZone = `e2e-recipe-zone-${Date.now()}`;
	/** The downloaded recipe with a zone added at the top of its zones. */
	const withZone = (y: string) => {
		const out = y.replace('\nzones:\n', `\nzones:\n- name: ${newZone}\n  multipliers:\n    xp: 2\n`);
		expect(out, 'the recipe lists zones in block style').not.toBe(y);
		return out;
	};
	/** …and the help zone's Gold multiplier changed from 2 to 3: a zone the guild has, differently. */
	const withHelpChanged = (y: string) => {
		const out = y.replace('- name: help\n  multipliers:\n    gold: 2\n', '- name: help\n  multipliers:\n    gold: 3\n');
		expect(out, 'the help zone pays 2× Gold').not.toBe(y);
		return out;
	};
	const section = (s: string) => page.locator(`[data-testid="recipe-section"][data-section="${s}"]`);
	const item = (s: string, kind: string, key: string) => section(s).locator(`[data-testid="recipe-item"][data-kind="${kind}"][data-key="${key}"]`);
	async function previewRecipe(text: string): Promise<{ status: number; body: any }> {
		await page.getByTestId('recipe-text').fill(text);
		const [r] = await Promise.all([
			page.waitForResponse((r) => r.url().endsWith(`/guilds/${guild()}/recipe/preview`) && r.request().method() === 'POST'),
			page.getByTestId('recipe-preview-button').click()
		]);
		return { status: r.status(), body: await r.json() };
	}

	test('export the recipe as YAML: a download, and the same text on the clipboard', async () => {
		await nav(page, 'Recipes');
		await page.waitForURL(`${base()}/g/${guild()}/recipes`);
		const exp = page.getByTestId('recipe-export');
		await exp.getByTestId('recipe-name').fill('E2E backup');
		await exp.locator('label', { hasText: 'YAML' }).click();
		await expect(exp.getByTestId('recipe-format-yaml')).toBeChecked();
		const [dl] = await Promise.all([page.waitForEvent('download'), exp.getByTestId('recipe-download').click()]);
		expect(dl.suggestedFilename()).toBe(`synapse-recipe-${guild()}.yaml`);
		await dl.saveAs(recipeFile);
		recipe = readFileSync(recipeFile, 'utf8');
		expect(recipe.startsWith('synapse_recipe: 1\n'), recipe.slice(0, 80)).toBeTruthy();
		expect(recipe).toContain('\nname: E2E backup\n');
		// What the operator exports is the same document.
		const direct = await fetch(`${base()}/api/v1/guilds/${guild()}/recipe?format=yaml&name=E2E+backup`, { headers: { Authorization: `Bearer ${process.env.SYNAPSE_E2E_OPERATOR}` } });
		expect(await direct.text()).toBe(recipe);
		await expect(page.getByTestId('toast-ok')).toContainText('Recipe downloaded');

		await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base() });
		await exp.getByTestId('recipe-copy').click();
		await expect(page.getByTestId('toast-ok').filter({ hasText: 'Recipe copied' })).toBeVisible();
		expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(recipe);
		await shot(page, '30-recipe-export');
	});

	test('the recipe imported back into the same guild changes nothing: everything is the same', async () => {
		await dismissToasts(page);
		await page.getByTestId('recipe-file').setInputFiles(recipeFile);
		await expect(page.getByTestId('recipe-file-name')).toHaveText(path.basename(recipeFile));
		await expect(page.getByTestId('recipe-text')).toHaveValue(recipe);
		const [r] = await Promise.all([
			page.waitForResponse((r) => r.url().endsWith(`/guilds/${guild()}/recipe/preview`) && r.request().method() === 'POST'),
			page.getByTestId('recipe-preview-button').click()
		]);
		expect(r.status()).toBe(200);
		expect(r.request().headers()['content-type']).toBe('application/yaml');
		const plan = (await r.json()) as RecipePlan;
		expect(plan.applied).toBe(false);
		expect(plan.warnings).toEqual([]);
		const have = {
			currencies: (await api<{ items: unknown[] }>(`/guilds/${guild()}/currencies`)).items.length,
			zones: (await api<{ items: unknown[] }>(`/guilds/${guild()}/zones`)).items.length,
			rules: (await api<{ items: unknown[] }>(`/guilds/${guild()}/rules`)).items.length
		};
		for (const s of sections) {
			expect(plan[s].create, s).toEqual([]);
			expect(plan[s].differs, s).toEqual([]);
			if (s in have) expect(plan[s].same, s).toHaveLength(have[s as keyof typeof have]);
			await expect(section(s).getByTestId('count-create')).toHaveText('+0');
			await expect(section(s).getByTestId('count-same')).toHaveText(`=${plan[s].same.length}`);
			await expect(section(s).getByTestId('count-differs')).toHaveText('≠0');
		}
		await expect(section('milestones')).toContainText('Achievements'); // the dashboard's word for milestones
		await expect(page.getByTestId('recipe-totals')).toContainText('Nothing to create.');
		await expect(page.getByTestId('recipe-legend')).toContainText('kept as it is');
		await expect(section('taxonomy')).toHaveCount(0); // no renamed term: no Terms section
		await expect(page.getByTestId('recipe-apply')).toBeDisabled();
		await shot(page, '31-recipe-preview-same', true);
	});

	test('a malformed recipe is refused at its field', async () => {
		await dismissToasts(page);
		// An unknown field: the API names it.
		const unknown = await previewRecipe(recipe.replace('\ncurrencies:\n- code: xp\n', '\ncurrencies:\n- code: xp\n  colour: teal\n'));
		expect(unknown.status).toBe(400);
		await expect(page.getByTestId('recipe-error-field')).toHaveText(unknown.body.error.field);
		await expect(page.getByTestId('recipe-error')).toContainText(unknown.body.error.message);
		await expect(page.getByTestId('recipe-error')).toContainText('colour');
		await expect(page.getByTestId('recipe-text-error')).toBeVisible(); // its line is marked
		await expect(page.getByTestId('recipe-preview')).toHaveCount(0);
		await expect(page.getByTestId('toast-error').first()).toContainText('request id');
		await shot(page, '32-recipe-unknown-field');
		// A zone named twice: the error's path is a line of the YAML.
		const twice = recipe.replace('\nzones:\n', '\nzones:\n- name: help\n');
		const dup = await previewRecipe(twice);
		expect(dup.status).toBe(400);
		expect(dup.body.error.field).toMatch(/^zones\[\d+\]\.name$/);
		await expect(page.getByTestId('recipe-error-field')).toHaveText(dup.body.error.field);
		const i = Number(dup.body.error.field.match(/\d+/)[0]);
		const lines = twice.split('\n');
		const zonesAt = lines.indexOf('zones:');
		const line = lines.findIndex((l, n) => n > zonesAt && l.startsWith('- name: ') && lines.slice(zonesAt + 1, n).filter((x) => x.startsWith('- ')).length === i) + 1;
		await expect(page.getByTestId('recipe-error')).toContainText(`line ${line}`);
		// Neither JSON nor YAML: the reader's position marks the line.
		const broken = await previewRecipe('synapse_recipe: 1\nname: [unclosed\n');
		expect(broken.status).toBe(400);
		expect(broken.body.error.message).toContain('neither JSON nor YAML');
		await expect(page.getByTestId('recipe-text-error')).toBeVisible();
	});

	test('a recipe that would pass the plan’s currency limit is refused as a whole: nothing is created', async () => {
		const billing = await api<Billing>(`/tenants/${tenant}/billing`);
		const have = (await api<{ items: unknown[] }>(`/guilds/${guild()}/currencies`)).items.length;
		test.skip(billing.limits.currencies === 0 || have < billing.limits.currencies, `the guild has ${have} currencies, the ${billing.plan} plan allows ${billing.limits.currencies}`);
		// A fourth currency, a new zone, and "Badges" for achievements (the guild kept the default term).
		expect(recipe, 'the demo guild renamed no term').not.toContain('\ntaxonomy:');
		const text =
			withZone(recipe).replace('\ncurrencies:\n', '\ncurrencies:\n- code: e2e_gems\n  name: E2E gems\n') + 'taxonomy:\n  achievement:\n    one: Badge\n    many: Badges\n';
		const { status, body } = await previewRecipe(text);
		expect(status).toBe(200);
		expect(body.currencies.create).toEqual(['e2e_gems']);
		expect(body.zones.create).toEqual([newZone]);
		expect(body.taxonomy.create).toEqual(['achievement']);
		await expect(item('currencies', 'create', 'e2e_gems')).toBeVisible();
		await expect(item('taxonomy', 'create', 'achievement')).toBeVisible();
		await expect(section('taxonomy')).toContainText('Terms');
		await dismissToasts(page);
		await page.getByTestId('recipe-apply').click();
		await expect(page.getByTestId('recipe-confirm')).toContainText('This creates 3 things');
		const [refused] = await Promise.all([
			page.waitForResponse((r) => r.url().endsWith(`/guilds/${guild()}/recipe/apply`)),
			page.getByTestId('recipe-confirm-apply').click()
		]);
		expect(refused.status()).toBe(402);
		const err = ((await refused.json()) as { error: { code: string; message: string } }).error;
		expect(err.code).toBe('plan_limit');
		await expect(page.getByTestId('plan-limit')).toContainText(err.message);
		await expect(page.getByTestId('plan-limit-billing')).toHaveAttribute('href', `/g/${guild()}/billing`);
		await expect(page.getByTestId('toast-error').filter({ hasText: 'Recipe not applied' })).toContainText('See plans in Billing');
		await expect(page.getByTestId('recipe-result')).toHaveCount(0);
		await shot(page, '33-recipe-plan-limit');
		// Nothing was created, the zone neither.
		const zones = await api<{ items: { name: string }[] }>(`/guilds/${guild()}/zones`);
		expect(zones.items.map((z) => z.name)).not.toContain(newZone);
		expect((await api<{ items: unknown[] }>(`/guilds/${guild()}/currencies`)).items).toHaveLength(have);
		const terms = await api<{ terms: { term: string; label: { many: string } }[] }>(`/guilds/${guild()}/taxonomy`);
		expect(terms.terms.find((t) => t.term === 'achievement')?.label.many).toBe('Achievements');
	});

	test('a recipe with a new zone and a changed one: the new zone is created, the guild’s kept as it is', async () => {
		await dismissToasts(page);
		const text = withHelpChanged(withZone(recipe));
		const { status, body } = await previewRecipe(text);
		expect(status).toBe(200);
		expect(body.zones).toEqual(expect.objectContaining({ create: [newZone], differs: ['help'] }));
		for (const s of ['currencies', 'rules', 'milestones'] as const) expect(body[s].create.length + body[s].differs.length, s).toBe(0);
		await expect(item('zones', 'create', newZone)).toBeVisible();
		await expect(section('zones').getByTestId('count-create')).toHaveText('+1');
		await expect(section('zones').getByTestId('count-differs')).toHaveText('≠1');
		// The differing zone side by side: this server's (kept) and the recipe's, the field that differs.
		const help = item('zones', 'differs', 'help');
		await expect(help).toContainText('this server\'s stays');
		const row = help.locator('[data-testid="recipe-diff"] tr[data-path="multipliers.gold"]');
		await expect(row.locator('[data-side="current"]')).toHaveText('2');
		await expect(row.locator('[data-side="recipe"]')).toHaveText('3');
		await expect(help.locator('[data-testid="recipe-diff"] tbody tr')).toHaveCount(1);
		await expect(page.getByTestId('recipe-totals')).toContainText('Applying creates 1 zone');
		await shot(page, '34-recipe-preview-diff', true);

		await page.getByTestId('recipe-apply').click();
		await expect(page.getByTestId('recipe-confirm')).toContainText('This creates 1 thing');
		await expect(page.getByTestId('recipe-confirm')).toContainText(newZone);
		await expect(page.getByTestId('recipe-confirm')).toContainText('the one that differs from the recipe stays as it is');
		await shot(page, '35-recipe-confirm');
		const [applied] = await Promise.all([
			page.waitForResponse((r) => r.url().endsWith(`/guilds/${guild()}/recipe/apply`)),
			page.getByTestId('recipe-confirm-apply').click()
		]);
		expect(applied.status()).toBe(200);
		const done = (await applied.json()) as RecipePlan;
		expect(done.applied).toBe(true);
		expect(done.zones.create).toEqual([newZone]);
		await expect(page.getByTestId('toast-ok').filter({ hasText: 'Recipe applied' })).toContainText('Created 1 zone');
		await page.getByTestId('recipe-text').evaluate((t) => t.scrollTo(0, 0));
		await expect(page.getByTestId('recipe-result').getByTestId('recipe-created')).toHaveText(`zone ${newZone}`);
		// The second preview, made after applying: the new zone is the same now; help still differs, kept.
		await expect(item('zones', 'same', newZone)).toBeVisible();
		await expect(item('zones', 'differs', 'help')).toBeVisible();
		await expect(page.getByTestId('recipe-totals')).toContainText('Nothing to create.');
		await expect(page.getByTestId('recipe-apply')).toBeDisabled();
		await shot(page, '36-recipe-applied', true);

		// What the operator reads: the zone exists as the recipe has it, help is unchanged, the import is audited.
		const zones = await api<{ items: { name: string; multipliers: Record<string, number> }[] }>(`/guilds/${guild()}/zones`);
		expect(zones.items.find((z) => z.name === newZone)?.multipliers).toEqual({ xp: 2 });
		expect(zones.items.find((z) => z.name === 'help')?.multipliers.gold).toBe(2);
		const audit = await api<{ items: { action: string; target: string }[] }>(`/guilds/${guild()}/audit?limit=20`);
		expect(audit.items).toContainEqual(expect.objectContaining({ action: 'recipe.applied', target: 'recipe:E2E backup' }));
		// Applying the same recipe again creates nothing.
		const again = await page.evaluate(
			async ([g, body]) => {
				const csrf = document.cookie.match(/(?:^|; )synapse_csrf=([^;]*)/)?.[1] ?? '';
				const r = await fetch(`/api/v1/guilds/${g}/recipe/apply`, { method: 'POST', headers: { 'X-CSRF-Token': decodeURIComponent(csrf), 'Content-Type': 'application/yaml' }, body });
				return r.json();
			},
			[guild(), text] as const
		);
		expect(again.zones.create).toEqual([]);
		expect(again.zones.same).toContain(newZone);
	});

	interface ModuleItem {
		module: string;
		rules: number;
		enabled: number;
		rule_keys: string[];
	}
	interface RuleItem {
		id: string;
		key?: string;
		name: string;
		module: string;
		enabled: boolean;
	}
	const classicRules = async () => (await api<{ items: RuleItem[] }>(`/guilds/${guild()}/rules`)).items.filter((r) => r.module === 'classic');
	const sorted = (xs: string[]) => [...xs].sort();

	test('the Classic module switched off, the confirmation naming its rules, then mixed, then back on', async () => {
		const before = await classicRules();
		const on = before.filter((r) => r.enabled);
		expect(on.length, 'the demo installs the Classic preset, its rules on').toBeGreaterThan(1);
		try {
			await dismissToasts(page);
			await nav(page, 'Modules');
			const card = page.locator('[data-testid="module"][data-module="classic"]');
			await expect(card.getByTestId('module-name')).toHaveText('Classic');
			await expect(card.getByTestId('module-count')).toContainText(`${before.length} rules · ${on.length} on`);
			await expect(card.getByTestId('module-rule')).toHaveCount(before.length);
			// Each rule links to its page (matched by key).
			for (const r of before) await expect(card.getByRole('link', { name: r.name, exact: true })).toHaveAttribute('href', `/g/${guild()}/rules/${r.id}`);
			// The rules of no module, the one made above among them (keyless: matched by name), come last as "Custom rules".
			const custom = page.locator('[data-testid="module"][data-module=""]');
			await expect(custom.getByTestId('module-name')).toHaveText('Custom rules');
			await expect(custom.getByRole('link', { name: ruleName, exact: true })).toHaveAttribute('href', `/g/${guild()}/rules/${ruleId}`);
			await expect(page.getByTestId('module').last()).toHaveAttribute('data-module', '');
			await shot(page, '37-modules', true);

			// Off: the confirmation lists the rules that are on, the ones that change.
			if (on.length === before.length) await card.getByTestId('module-toggle').click();
			else await card.getByTestId('module-all-off').click();
			const confirm = page.getByTestId('module-confirm');
			await expect(confirm).toContainText(`${on.length} rules will be switched off`);
			expect(sorted(await confirm.getByTestId('module-confirm-rules').locator('li').allTextContents())).toEqual(sorted(on.map((r) => r.name)));
			await shot(page, '38-module-confirm-off');
			const [off] = await Promise.all([
				page.waitForResponse((r) => r.url().endsWith(`/guilds/${guild()}/modules/classic/enabled`) && r.request().method() === 'PUT'),
				confirm.getByTestId('module-confirm-apply').click()
			]);
			expect(off.status()).toBe(200);
			expect(off.request().postDataJSON()).toEqual({ enabled: false });
			expect(((await off.json()) as { changed: unknown[] }).changed).toHaveLength(on.length);
			await expect(page.getByTestId('toast-ok').filter({ hasText: 'Classic off' })).toContainText(`${on.length} rules switched off`);
			await expect(card).toHaveAttribute('data-state', 'off');
			await expect(card.getByTestId('module-count')).toContainText(`${before.length} rules · 0 on`);
			expect((await classicRules()).filter((r) => r.enabled)).toEqual([]);
			const mods = await api<{ items: ModuleItem[] }>(`/guilds/${guild()}/modules`);
			expect(mods.items.find((m) => m.module === 'classic')).toEqual(expect.objectContaining({ rules: before.length, enabled: 0 }));

			// One rule back on (as the operator): the module is mixed, shown so.
			await apiWrite('PUT', `/guilds/${guild()}/rules/${on[0].id}/enabled`, { enabled: true });
			await dismissToasts(page);
			await page.reload();
			await expect(card).toHaveAttribute('data-state', 'mixed');
			await expect(card.getByTestId('module-mixed')).toHaveText(`mixed: ${before.length - 1} off`);
			await expect(card.locator('[data-testid="module-rule"][data-enabled="true"]')).toHaveCount(1);
			await shot(page, '39-module-mixed');

			// On: only the rules still off change.
			await card.getByTestId('module-toggle').click();
			await expect(confirm).toContainText(`${before.length - 1} rules will be switched on`);
			await expect(confirm).toContainText('The other 1 are already on');
			expect(sorted(await confirm.getByTestId('module-confirm-rules').locator('li').allTextContents())).toEqual(sorted(before.filter((r) => r.id !== on[0].id).map((r) => r.name)));
			await confirm.getByTestId('module-confirm-apply').click();
			await expect(page.getByTestId('toast-ok').filter({ hasText: 'Classic on' })).toContainText(`${before.length - 1} rules switched on`);
			await expect(card).toHaveAttribute('data-state', 'on');
			expect((await classicRules()).every((r) => r.enabled)).toBe(true);
			const audit = await api<{ items: { action: string; target: string }[] }>(`/guilds/${guild()}/audit?limit=50`);
			expect(audit.items.filter((e) => e.action === 'rules.module.set_enabled' && e.target === 'module:classic').length).toBeGreaterThanOrEqual(2);
		} finally {
			// As it was: every rule in its state from before.
			for (const r of await classicRules()) {
				const was = before.find((b) => b.id === r.id);
				if (was && was.enabled !== r.enabled) await apiWrite('PUT', `/guilds/${guild()}/rules/${r.id}/enabled`, { enabled: was.enabled });
			}
		}
	});

	test('achievements renamed "Badges": the navigation and the page title follow; a bad label is refused at its field; reset', async () => {
		type Terms = { terms: { term: string; default: { one: string; many: string }; label: { one: string; many: string } }[] };
		const renamed = (t: Terms) => t.terms.filter((x) => x.label.one !== x.default.one || x.label.many !== x.default.many);
		expect(renamed(await api<Terms>(`/guilds/${guild()}/taxonomy`)), 'the demo guild renamed no term').toEqual([]);
		const navLink = (name: string) => page.getByRole('navigation').getByRole('link', { name, exact: true });
		const save = () =>
			Promise.all([
				page.waitForResponse((r) => r.url().endsWith(`/guilds/${guild()}/taxonomy`) && r.request().method() === 'PUT'),
				page.getByTestId('terms-save').click()
			]).then(([r]) => r);
		try {
			await dismissToasts(page);
			await nav(page, 'Terms');
			const row = page.locator('[data-testid="term-row"][data-term="achievement"]');
			const one = row.getByTestId('term-one');
			const many = row.getByTestId('term-many');
			await expect(page.getByTestId('term-row')).toHaveCount(8);
			await expect(one).toHaveAttribute('placeholder', 'Achievement');
			await expect(many).toHaveAttribute('placeholder', 'Achievements');
			await expect(one).toHaveValue('');
			await one.fill('Badge');
			await many.fill('Badges');
			const ok = await save();
			expect(ok.status()).toBe(200);
			expect(ok.request().postDataJSON()).toEqual({ terms: { achievement: { one: 'Badge', many: 'Badges' } } });
			await expect(page.getByTestId('toast-ok').filter({ hasText: 'Terms saved' })).toContainText('1 term renamed');
			// The navigation follows at once.
			await expect(navLink('Badges')).toBeVisible();
			await expect(navLink('Achievements')).toHaveCount(0);
			const stored = await api<Terms>(`/guilds/${guild()}/taxonomy`);
			expect(stored.terms.find((t) => t.term === 'achievement')?.label).toEqual({ one: 'Badge', many: 'Badges' });
			await dismissToasts(page);
			await shot(page, '40-terms-renamed');

			// The page's title, also after a reload (read back from the API).
			await nav(page, 'Badges');
			await page.waitForURL(`${base()}/g/${guild()}/achievements`);
			await expect(page.getByRole('heading', { level: 1 })).toContainText('Badges');
			await expect(page).toHaveTitle('Badges · Synapse');
			await page.reload();
			await expect(page.getByRole('heading', { level: 1 })).toContainText('Badges');
			await expect(navLink('Badges')).toHaveAttribute('aria-current', 'page');
			await expect(page.getByTestId('skeleton')).toHaveCount(0);
			await shot(page, '41-badges-page');

			// Markup is refused at the input it came from; nothing changes.
			await nav(page, 'Terms');
			await expect(one).toHaveValue('Badge');
			await one.fill('@everyone');
			const bad = await save();
			expect(bad.status()).toBe(400);
			const err = ((await bad.json()) as { error: { field: string; message: string } }).error;
			expect(err.field).toBe('terms.achievement.one');
			await expect(row.locator('[data-testid="term-error"][data-field="terms.achievement.one"]')).toHaveText(err.message);
			await expect(one).toHaveAttribute('aria-invalid', 'true');
			await expect(many).not.toHaveAttribute('aria-invalid', 'true');
			await expect(page.getByTestId('toast-error').filter({ hasText: 'Terms not saved' })).toContainText('terms.achievement.one');
			await shot(page, '42-terms-field-error');
			expect((await api<Terms>(`/guilds/${guild()}/taxonomy`)).terms.find((t) => t.term === 'achievement')?.label.many).toBe('Badges');
			await expect(navLink('Badges')).toBeVisible();

			// Reset: back to the default, saved as no label at all.
			await dismissToasts(page);
			await row.getByTestId('term-reset').click();
			await expect(one).toHaveValue('');
			await expect(many).toHaveValue('');
			await expect(row.getByTestId('term-error')).toHaveCount(0);
			const reset = await save();
			expect(reset.status()).toBe(200);
			expect(reset.request().postDataJSON()).toEqual({ terms: {} });
			await expect(page.getByTestId('toast-ok').filter({ hasText: 'Terms saved' })).toContainText('back to its default');
			await expect(navLink('Achievements')).toBeVisible();
			await expect(navLink('Badges')).toHaveCount(0);
			expect(renamed(await api<Terms>(`/guilds/${guild()}/taxonomy`))).toEqual([]);
			const audit = await api<{ items: { action: string }[] }>(`/guilds/${guild()}/audit?limit=20`);
			expect(audit.items.filter((e) => e.action === 'guild.taxonomy.update').length).toBeGreaterThanOrEqual(2);
			await dismissToasts(page);
			await shot(page, '43-terms-reset');
		} finally {
			if (renamed(await api<Terms>(`/guilds/${guild()}/taxonomy`)).length) await apiWrite('PUT', `/guilds/${guild()}/taxonomy`, { terms: {} });
		}
	});

	test('Team: the owner sees themselves, adds a member as viewer, makes them admin, cannot leave as the last owner, removes the member', async () => {
		type Members = { items: { user_id: string; username: string; role: string }[]; next_after: string | null };
		const members = async () => (await api<Members>(`/tenants/${tenant}/members?limit=200`)).items;
		const before = await members();
		expect(before).toEqual([expect.objectContaining({ user_id: userId, role: 'owner' })]);
		// A member of the demo guild who holds no role in its tenant: one the leaderboard ranks.
		const board = await api<{ items: { user_id: string }[] }>(`/guilds/${guild()}/leaderboard?limit=10`);
		const member = board.items.map((i) => i.user_id).find((u) => u !== userId)!;
		expect(member).toBeTruthy();
		const row = (u: string) => page.locator(`[data-testid="team-row"][data-user="${u}"]`);
		const memberWrite = (method: string) =>
			Promise.all([
				page.waitForResponse((r) => r.url().endsWith(`/api/v1/tenants/${tenant}/members/${member}`) && r.request().method() === method),
				page.waitForResponse((r) => r.url().includes(`/api/v1/tenants/${tenant}/members?`) && r.ok()) // the list read again
			]).then(([r]) => r);
		try {
			await dismissToasts(page);
			await nav(page, 'Team');
			await page.waitForURL(`${base()}/g/${guild()}/team`);
			await expect(page).toHaveTitle('Team · Synapse');
			await expect(page.getByTestId('team-row')).toHaveCount(1);
			const mine = row(userId);
			await expect(mine).toHaveAttribute('data-role', 'owner');
			await expect(mine.getByTestId('team-you')).toBeVisible();
			await expect(mine.getByTestId('team-user-id')).toHaveText(userId);
			await expect(mine.getByTestId('team-username')).toHaveText(before[0].username || '—');
			await expect(mine.getByTestId('team-role-select')).toHaveValue('owner');
			// The last owner's role cannot be changed from here.
			await expect(mine.getByTestId('team-role-select')).toBeDisabled();
			await expect(mine.getByTestId('team-last-owner')).toBeVisible();
			await expect(page.getByTestId('team-add')).toContainText('Copy User ID');
			await shot(page, '44-team');

			// Added by Discord user id, as a viewer.
			await page.getByTestId('team-add-id').fill(member);
			await page.getByTestId('team-add-role').selectOption('viewer');
			const [added] = await Promise.all([memberWrite('PUT'), page.getByTestId('team-add-submit').click()]);
			expect(added.status()).toBe(200);
			expect(added.request().postDataJSON()).toEqual({ role: 'viewer' });
			await expect(page.getByTestId('toast-ok')).toContainText('added as viewer');
			await expect(row(member)).toHaveAttribute('data-role', 'viewer');
			await expect(page.getByTestId('team-row')).toHaveCount(2);
			await expect(page.getByTestId('team-add-id')).toHaveValue('');
			expect(await members()).toContainEqual(expect.objectContaining({ user_id: member, role: 'viewer' }));
			// Two rows, still one owner: the owner's own role stays locked.
			await expect(mine.getByTestId('team-role-select')).toBeDisabled();
			await dismissToasts(page);
			await shot(page, '45-team-added');

			// Made admin from the row's select.
			const [changed] = await Promise.all([memberWrite('PUT'), row(member).getByTestId('team-role-select').selectOption('admin')]);
			expect(changed.status()).toBe(200);
			expect(changed.request().postDataJSON()).toEqual({ role: 'admin' });
			await expect(page.getByTestId('toast-ok')).toContainText('is admin now');
			await expect(row(member)).toHaveAttribute('data-role', 'admin');
			expect(await members()).toContainEqual(expect.objectContaining({ user_id: member, role: 'admin' }));

			// Leaving as the last owner: the API's 409 is shown in the dialog, and nothing changes.
			await dismissToasts(page);
			await mine.getByTestId('team-remove').click();
			const dialog = page.getByTestId('team-confirm');
			await expect(dialog).toContainText('You lose your owner role');
			const [refused] = await Promise.all([
				page.waitForResponse((r) => r.url().endsWith(`/api/v1/tenants/${tenant}/members/${userId}`) && r.request().method() === 'DELETE'),
				dialog.getByTestId('team-confirm-apply').click()
			]);
			expect(refused.status()).toBe(409);
			const err = ((await refused.json()) as { error: { code: string; message: string } }).error;
			expect(err.code).toBe('conflict');
			await expect(dialog.getByTestId('team-confirm-error')).toContainText('You are the last owner of this account');
			await expect(dialog.getByTestId('team-confirm-error-api')).toHaveText(err.message);
			await expect(dialog.getByTestId('team-confirm-apply')).toHaveCount(0);
			await shot(page, '46-team-last-owner');
			await dialog.getByRole('button', { name: 'Close' }).click();
			await expect(dialog).toHaveCount(0);
			await expect(page).toHaveURL(`${base()}/g/${guild()}/team`);
			await expect(mine).toHaveAttribute('data-role', 'owner');
			expect(await members()).toContainEqual(expect.objectContaining({ user_id: userId, role: 'owner' }));
			const me = await page.evaluate(async () => (await fetch('/api/v1/me')).json());
			expect(me.tenants).toContainEqual(expect.objectContaining({ tenant_id: tenant, role: 'owner' }));

			// The member removed, after the confirmation.
			await row(member).getByTestId('team-remove').click();
			await expect(dialog).toContainText('loses their admin role');
			const [removed] = await Promise.all([memberWrite('DELETE'), dialog.getByTestId('team-confirm-apply').click()]);
			expect(removed.status()).toBe(204);
			await expect(page.getByTestId('toast-ok')).toContainText('removed');
			await expect(row(member)).toHaveCount(0);
			await expect(page.getByTestId('team-row')).toHaveCount(1);
			expect(await members()).toEqual(before);
			await dismissToasts(page);
			await shot(page, '47-team-removed');
		} finally {
			// As it was: the owner alone.
			if ((await members()).some((m) => m.user_id === member)) {
				const r = await fetch(`${base()}/api/v1/tenants/${tenant}/members/${member}`, {
					method: 'DELETE',
					headers: { Authorization: `Bearer ${process.env.SYNAPSE_E2E_OPERATOR}` }
				});
				expect(r.status, 'the member removed afterwards').toBe(204);
			}
		}
	});

	test('on a phone the navigation is a drawer', async () => {
		await page.setViewportSize({ width: 390, height: 844 });
		await page.goto(`${base()}/g/${guild()}/leaderboard`);
		await expect(page.getByTestId('leaderboard')).toBeVisible();
		await shot(page, '15-phone-leaderboard');
		await page.getByTestId('nav-toggle').click();
		await expect(page.getByRole('navigation').getByRole('link', { name: 'Audit log', exact: true })).toBeInViewport();
		await shot(page, '16-phone-drawer');
	});
});

test('a member without a role sees no guild and is refused its pages', async ({ page }) => {
	failOnPageErrors(page);
	// The consent page offers a few members of each guild; some hold Manage
	// Server through a role. Log in as each plain member in turn until one
	// has no role in any guild Synapse knows.
	let found = false;
	for (let n = 0; n < 12 && !found; n++) {
		await page.context().clearCookies();
		await login(page, (opts) => {
			const plain = opts.filter((o) => !o.label.includes('(owner of'));
			return plain[n].value;
		});
		const me = await page.evaluate(async () => (await fetch('/api/v1/me')).json());
		found = me.guilds.length === 0;
	}
	expect(found, 'a consent-page user without a role').toBeTruthy();
	await expect(page.getByTestId('empty-state')).toContainText('No community to manage yet');
	await page.goto(`${base()}/g/${guild()}/rules`);
	await expect(page.getByTestId('refused')).toContainText('ACCESS DENIED');
	await expect(page.getByTestId('rule-row')).toHaveCount(0);
	await expect(page.getByRole('navigation').getByRole('link', { name: 'Billing', exact: true })).toHaveCount(0);
	await shot(page, '17-refused');
	// The API agrees: no rule list for this session.
	const status = await page.evaluate(async (g) => (await fetch(`/api/v1/guilds/${g}/rules`)).status, guild());
	expect([403, 404]).toContain(status);
});

test.describe.serial('adding a server', () => {
	// The demo has a server without the bot ("pending", --sim-pending-guilds):
	// its owner brings it to Synapse from the dashboard, first (as a co-owner
	// of another community's account on the Free plan) into that account,
	// which its plan refuses, then as a new community, through Discord's
	// consent page.
	let page: Page;
	const pending = { id: '', name: '' };
	let owner = { value: '', label: '' };
	let users: { value: string; label: string }[] = [];
	const other = { guild: '', name: '', tenant: 0 }; // a community with the bot, of another account
	test.beforeAll(async ({ browser }) => {
		page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
		failOnPageErrors(page);
	});
	test.afterAll(async () => {
		await page.close();
	});

	test('logged out, the landing page adds Synapse to a server through Discord', async () => {
		await page.goto(base() + '/');
		await expect(page.getByTestId('add-bot')).toHaveText('Add Synapse to your server');
		await shot(page, '23-landing');
		await page.getByTestId('add-bot').click();
		// discordsim's consent page for the bot scope: a server picker besides the user.
		await expect(page.locator('#guild_id')).toBeVisible();
		expect(new URL(page.url()).origin).toBe(process.env.SYNAPSE_E2E_SIM);
		await expect(page.locator('#scopes')).toContainText('bot');
		await shot(page, '24-add-bot-consent');
		const servers = await page.locator('#guild_id option').evaluateAll((os) => os.map((o) => ({ id: (o as HTMLOptionElement).value, name: o.textContent ?? '' })));
		users = await page.locator('#login_as option').evaluateAll((os) => os.map((o) => ({ value: (o as HTMLOptionElement).value, label: o.textContent ?? '' })));
		// Which servers Synapse has: the operator reads their overview; the pending one is unknown (404).
		for (const sv of servers) {
			const r = await fetch(`${base()}/api/v1/guilds/${sv.id}/overview`, { headers: { Authorization: `Bearer ${process.env.SYNAPSE_E2E_OPERATOR}` } });
			if (r.status === 404 && !pending.id) Object.assign(pending, sv);
			if (r.ok && sv.id !== guild() && !other.guild) {
				const o = (await r.json()) as { guild: { name: string; tenant_id: number } };
				Object.assign(other, { guild: sv.id, name: o.guild.name, tenant: o.guild.tenant_id });
			}
		}
		expect(pending.id, 'a demo server without the bot').not.toBe('');
		expect(other.guild, 'a second demo server with the bot').not.toBe('');
		owner = users.find((u) => u.label.includes(`(owner of ${pending.name})`))!;
		expect(owner, `the owner of ${pending.name} on the consent page`).toBeTruthy();
	});

	test('its owner logs in: nothing to manage yet, and the way to add a server', async () => {
		await login(page, () => owner.value);
		await expect(page.getByTestId('empty-state')).toContainText('No community to manage yet');
		await page.getByTestId('empty-add-server').click();
		await page.waitForURL(`${base()}/servers`);
		const row = page.locator(`[data-testid="server"][data-guild="${pending.id}"]`);
		await expect(row.getByTestId('server-name')).toHaveText(pending.name);
		await expect(row.getByTestId('server-status')).toHaveText('not in Synapse');
		await expect(row.getByTestId('add-new-community')).toBeVisible();
		await expect(row.getByTestId('add-to-tenant')).toHaveCount(0); // owns no account yet
	});

	test('adding it to an account on the Free plan, which has its one server, is refused with the way to Billing', async () => {
		// The owner of another community's account made this user a co-owner (the operator token stands in for them).
		const me = await page.evaluate(async () => (await fetch('/api/v1/me')).json());
		await apiWrite('PUT', `/tenants/${other.tenant}/members/${me.user.id}`, { role: 'owner' });
		const billing = await api<Billing>(`/tenants/${other.tenant}/billing`);
		expect(billing.limits.guilds, `the ${billing.plan} plan's servers`).toBe(1);
		expect(billing.usage.guilds).toBe(1);

		await page.goto(`${base()}/`);
		await expect(page.getByTestId('guild-card').filter({ hasText: other.name })).toBeVisible();
		await page.getByTestId('add-server').click();
		await page.waitForURL(`${base()}/servers`);
		const row = page.locator(`[data-testid="server"][data-guild="${pending.id}"]`);
		const tenantName = (me2: { tenants: { tenant_id: number; tenant_name: string }[] }) => me2.tenants.find((t) => t.tenant_id === other.tenant)!.tenant_name;
		const name = tenantName(await page.evaluate(async () => (await fetch('/api/v1/me')).json()));
		const add = row.getByTestId('add-to-tenant');
		await expect(add).toHaveText(`Add to ${name}`);
		const [refused] = await Promise.all([
			page.waitForResponse((r) => r.url().endsWith(`/api/v1/tenants/${other.tenant}/servers`) && r.request().method() === 'POST'),
			add.click()
		]);
		expect(refused.status()).toBe(402);
		const err = ((await refused.json()) as { error: { code: string; message: string } }).error;
		expect(err.code).toBe('plan_limit');
		await expect(row.getByTestId('plan-limit')).toContainText(err.message);
		await expect(row.getByTestId('plan-limit-billing')).toHaveAttribute('href', `/g/${other.guild}/billing`);
		expect(page.url()).toBe(`${base()}/servers`); // still here: nothing was sent to Discord
		await shot(page, '25-add-server-plan-limit');
	});

	test('added as a new community through Discord’s consent, it lands on its dashboard, owned by the user', async () => {
		const row = page.locator(`[data-testid="server"][data-guild="${pending.id}"]`);
		await row.getByTestId('add-new-community').click();
		await expect(page.locator('#guild_id')).toBeVisible(); // discordsim's consent page, this server preselected
		await expect(page.locator('#guild_id')).toHaveValue(pending.id);
		await page.selectOption('#login_as', owner.value);
		await page.locator('#authorize').click();
		// The callback registers the server's tenant: "created" when it is first, "claimed" when the
		// gateway's GUILD_CREATE (dispatched as the bot joins) registered it a moment before.
		await page.waitForURL(new RegExp(`^${base()}/g/${pending.id}\\?onboarding=(created|claimed)$`));
		const banner = page.getByTestId('onboarding-banner');
		await expect(banner).toContainText('Welcome to Synapse!');
		await expect(banner.getByTestId('next-classic')).toContainText('Install the Classic preset');
		await expect(page.getByTestId('unclaimed-banner')).toHaveCount(0);
		await expect(page.getByRole('navigation').getByRole('link', { name: 'Billing', exact: true })).toBeVisible();
		await shot(page, '26-onboarding-welcome');

		// The operator's view: a tenant of its own (not the co-owned one), owned by this user.
		const o = await api<{ guild: { tenant_id: number } }>(`/guilds/${pending.id}/overview`);
		expect(o.guild.tenant_id).not.toBe(other.tenant);
		const members = await api<{ items: { user_id: string; role: string }[] }>(`/tenants/${o.guild.tenant_id}/members`);
		expect(members.items).toContainEqual(expect.objectContaining({ user_id: owner.value, role: 'owner' }));
		// The gateway captures it: the bot is in (active in /me) and the member list of its GUILD_CREATE is stored.
		await expect
			.poll(async () => {
				const me = await page.evaluate(async () => (await fetch('/api/v1/me')).json());
				const g = (me.guilds as { guild_id: string; active: boolean; unclaimed: boolean }[]).find((x) => x.guild_id === pending.id);
				const ov = await api<{ members: { total: number } }>(`/guilds/${pending.id}/overview`);
				return { listed: !!g, active: g?.active, unclaimed: g?.unclaimed, members: ov.members.total > 0 };
			}, { timeout: 60_000 })
			.toEqual({ listed: true, active: true, unclaimed: false, members: true });
	});

	test('the welcome’s next step installs the Classic preset', async () => {
		await page.getByTestId('onboarding-banner').getByTestId('next-classic').click();
		await page.waitForURL(`${base()}/g/${pending.id}/rules`);
		await expect(page.getByTestId('empty-state')).toContainText('No rule yet');
		const [installed] = await Promise.all([
			page.waitForResponse((r) => r.url().endsWith(`/guilds/${pending.id}/rules/presets/classic`) && r.request().method() === 'POST'),
			page.getByTestId('empty-install-classic').click()
		]);
		expect(installed.status()).toBe(200);
		const out = (await installed.json()) as { changed: boolean; rules_created: string[] };
		expect(out.changed).toBe(true);
		await expect(page.getByTestId('toast-ok')).toContainText('Classic preset installed');
		await expect(page.getByTestId('rule-row')).toHaveCount(out.rules_created.length);
		await shot(page, '27-classic-installed');
		const rules = await api<{ items: unknown[] }>(`/guilds/${pending.id}/rules`);
		expect(rules.items).toHaveLength(out.rules_created.length);
	});

	test('the server list now opens its dashboard', async () => {
		await page.goto(`${base()}/servers`);
		const row = page.locator(`[data-testid="server"][data-guild="${pending.id}"]`);
		await expect(row.getByTestId('server-status')).toHaveText('in Synapse');
		await expect(row.getByTestId('add-new-community')).toHaveCount(0);
		await shot(page, '28-servers');
		await row.getByTestId('open-dashboard').click();
		await page.waitForURL(`${base()}/g/${pending.id}`);
		await expect(page.getByTestId('onboarding-banner')).toHaveCount(0);
	});

	test('another admin of the server adding the bot is told an account runs it, and changes nothing', async ({ browser }) => {
		// The consent page lists each server's owner, then its first members: the next one in
		// discordsim's world is a moderator, with Manage Server.
		const mod = users[users.indexOf(owner) + 1];
		const other = await browser.newPage({ viewport: { width: 1366, height: 900 } });
		failOnPageErrors(other);
		await other.goto(`${base()}/api/v1/onboarding/add-bot?guild=${pending.id}`);
		await expect(other.locator('#guild_id')).toHaveValue(pending.id);
		await other.selectOption('#login_as', mod.value);
		await other.locator('#authorize').click();
		await other.waitForURL(`${base()}/g/${pending.id}?onboarding=managed`);
		await expect(other.getByTestId('onboarding-banner')).toContainText(`${pending.name} is run by another Synapse account`);
		await expect(other.getByTestId('onboarding-banner')).toContainText('ask one of its owners for a role');
		await expect(other.getByRole('navigation').getByRole('link', { name: 'Billing', exact: true })).toHaveCount(0);
		await shot(other, '29-onboarding-managed');
		const o = await api<{ guild: { tenant_id: number } }>(`/guilds/${pending.id}/overview`);
		const members = await api<{ items: { user_id: string; role: string }[] }>(`/tenants/${o.guild.tenant_id}/members`);
		expect(members.items.map((m) => m.user_id)).toEqual([owner.value]);
		await other.close();
	});
});
