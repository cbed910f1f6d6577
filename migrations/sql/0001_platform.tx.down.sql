DROP TABLE audit_log;
DROP TABLE members;
DROP TABLE guilds;
DROP TABLE tenant_members;
DROP TABLE tenants;
