import { ApiError, get, post, setCsrfToken, setUnauthenticatedHandler } from './api';

export interface MeUser {
	id: string;
	username: string;
	global_name?: string;
	avatar?: string;
}
export interface MeGuild {
	guild_id: string;
	tenant_id?: string; // a decimal string, as guild ids are
	name?: string;
	roles: string[];
	via?: string[]; // where the roles come from: "guild" (Discord's Manage Server, or granted there) and/or "tenant"
	active?: boolean; // the bot is in the guild
	unclaimed?: boolean; // no Synapse account (operator) runs the guild's tenant yet: a guild admin may claim it
}
export interface MeTenant {
	tenant_id: number;
	tenant_name: string;
	role: string;
}
export interface Me {
	user: MeUser;
	tenants: MeTenant[];
	guilds: MeGuild[];
	auth: string;
	csrf_token?: string;
}

/** Who is logged in: undefined while loading, null when nobody is. */
export const session = $state<{ me: Me | null | undefined; error: ApiError | null }>({ me: undefined, error: null });

setUnauthenticatedHandler(() => {
	session.me = null;
});

export async function loadMe(): Promise<void> {
	try {
		const me = await get<Me>('/me');
		me.guilds.sort((a, b) => a.guild_id.localeCompare(b.guild_id));
		setCsrfToken(me.csrf_token ?? '');
		session.me = me;
		session.error = null;
	} catch (e) {
		session.me = null;
		session.error = e instanceof ApiError && e.status !== 401 ? e : null;
	}
}

export async function logout(): Promise<void> {
	try {
		await post('/auth/logout');
	} finally {
		session.me = null;
		setCsrfToken('');
	}
}

/** The caller's roles in a guild (guild_admin, moderator, viewer…). */
export function rolesIn(guild: string): string[] {
	return session.me?.guilds.find((g) => g.guild_id === guild)?.roles ?? [];
}

/**
 * Whether the caller may read the guild's configuration (settings, recipes):
 * every role reads guild.* (as the API decides), tenant-wide roles included.
 */
export function canRead(guild: string): boolean {
	return rolesIn(guild).length > 0 || tenantRole(tenantOf(guild)) !== undefined;
}

/** Whether the caller may change the guild's configuration. */
export function canWrite(guild: string): boolean {
	const r = rolesIn(guild);
	if (r.some((x) => x === 'guild_admin' || x === 'admin' || x === 'owner' || x === 'platform')) return true;
	// Tenant-wide roles reach every guild of the tenant.
	return (session.me?.tenants ?? []).some((t) => t.role === 'owner' || t.role === 'admin');
}

/** The tenant a guild belongs to, as /me tells (undefined when it does not list the guild). */
export function tenantOf(guild: string): number | undefined {
	const t = session.me?.guilds.find((g) => g.guild_id === guild)?.tenant_id;
	return t ? Number(t) : undefined;
}

/** The caller's tenant-wide role (owner, admin, moderator, viewer) in a tenant, if any. */
export function tenantRole(tenant: number | undefined): string | undefined {
	if (tenant === undefined) return undefined;
	return session.me?.tenants.find((t) => t.tenant_id === tenant)?.role;
}

/**
 * Whether the caller may see the billing of the guild's tenant: its owners
 * and admins may read it, only owners buy or manage (as the API decides).
 */
export function canSeeBilling(guild: string): boolean {
	const r = tenantRole(tenantOf(guild));
	return r === 'owner' || r === 'admin';
}

/** The guild as /me lists it, if it does. */
export function guildOf(guild: string): MeGuild | undefined {
	return session.me?.guilds.find((g) => g.guild_id === guild);
}

/**
 * Whether the caller may claim the guild: its tenant is unclaimed and the
 * caller administers the server (Discord's Manage Server gives guild_admin)
 * or already holds an owner or admin role in its tenant (POST claim is a
 * guild settings write, as the API decides).
 */
export function canClaim(guild: string): boolean {
	const g = guildOf(guild);
	if (!g?.unclaimed) return false;
	const r = tenantRole(tenantOf(guild));
	return g.roles.includes('guild_admin') || r === 'owner' || r === 'admin';
}

/** The tenants the caller owns: those they may add servers to. */
export function ownedTenants(): MeTenant[] {
	return (session.me?.tenants ?? []).filter((t) => t.role === 'owner');
}

/** The dashboard path of a tenant's Billing page: one of its guilds /me lists, else /billing, which picks one. */
export function billingPathOf(tenant: number): string {
	const g = session.me?.guilds.find((x) => x.tenant_id === String(tenant));
	return g ? `/g/${g.guild_id}/billing` : `/billing?tenant=${tenant}`;
}

export function displayName(u: MeUser | undefined): string {
	return u ? u.global_name || u.username : '';
}
