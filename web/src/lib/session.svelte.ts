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

export function displayName(u: MeUser | undefined): string {
	return u ? u.global_name || u.username : '';
}
