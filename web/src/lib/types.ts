// The API's shapes, as far as the dashboard reads them.

export interface Currency {
	id: string;
	code: string;
	name: string;
	symbol: string;
	decimals: number;
	primary?: boolean;
	transferable?: boolean;
	spendable?: boolean;
	allow_negative?: boolean;
	seasonal?: boolean;
	level_curve?: { kind: string; coeffs: number[] } | null;
	issued?: number;
	holders?: number;
}

export interface Level {
	level: number;
	into?: number;
	needed?: number;
	remaining?: number;
	fraction?: number;
	progress_percent?: number;
}

export function levelPercent(l: Level | null | undefined): number {
	if (!l) return 0;
	if (typeof l.progress_percent === 'number') return l.progress_percent;
	if (typeof l.fraction === 'number') return l.fraction * 100;
	if (l.needed) return ((l.into ?? 0) / l.needed) * 100;
	return 0;
}

export interface Standing {
	rank: number;
	user_id: string;
	name: string;
	balance: number;
	level?: Level | null;
}

export interface Overview {
	guild: { id: string; name: string; tenant_id: number };
	members: { total: number; active_7d: number; joined_7d: number; left_7d?: number };
	events: { today: number; last_7d: number; daily: { day: string; count: number }[] };
	currencies: Currency[];
	rules: { enabled: number; total: number };
	milestones: { templates: number; awarded_7d: number };
	top: Standing[];
}

export interface AuditEntry {
	id: number | string;
	actor: string;
	action: string;
	target: string;
	before: unknown;
	after: unknown;
	request_id: string;
	at: string;
}

export interface Page<T> {
	items: T[];
	next_after?: string | null;
	next_before?: string | null;
	next_offset?: number | null;
}

/** A plan's allowances; 0 is unlimited. Guilds are per tenant, the rest per guild. */
export interface PlanLimits {
	guilds: number;
	currencies: number;
	rules: number;
	milestones: number;
	retention_days: number;
}

export interface Plan {
	id: string;
	name: string;
	price_monthly_cents: number;
	limits: PlanLimits;
	currency: string; // ISO 4217 as Stripe writes it ("usd")
	self_serve: boolean; // bought through Stripe Checkout; others are agreed with the operator
	purchasable: boolean; // Checkout sells it on this deployment (self-serve, Stripe configured, a price set)
}

/** GET /tenants/{tenant}/billing. */
export interface Billing {
	plan: string; // in force: what the limits read
	subscription: {
		status: string; // Stripe's: none, active, trialing, past_due, canceled, unpaid, incomplete…
		subscribed_plan: string;
		current_period_end: string | null;
		cancel_at_period_end: boolean;
	};
	limits: PlanLimits;
	usage: { guilds: number; currencies: number; rules: number; milestones: number }; // of the fullest guild, guilds of the tenant
	plans: Plan[]; // cheapest first
	stripe_enabled: boolean;
}

/** GET /me/servers: a Discord server the caller can manage, and where it stands with Synapse. */
export interface DiscordServer {
	guild_id: string;
	name: string;
	tenant_id?: string; // in Synapse: the tenant it belongs to
	bot: boolean; // in Synapse with the bot in it
}

/** POST /guilds/{guild}/rules/presets/classic. */
export interface PresetInstall {
	preset: string;
	changed: boolean;
	currencies_created: string[];
	milestones_created: string[];
	zones_created: string[];
	rules_created: string[];
	rules_kept: string[];
}

/** A tenant role: owner (everything, billing and team), admin (every guild of the tenant), moderator (read, awards), viewer (read). */
export type TenantRole = 'owner' | 'admin' | 'moderator' | 'viewer';

/** One operator of a tenant (GET /tenants/{tenant}/members); username is empty until they log in to Synapse. */
export interface TenantMember {
	user_id: string;
	username: string;
	role: TenantRole;
	created_at: string;
}
