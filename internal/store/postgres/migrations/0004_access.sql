-- The access model: a key's groups and principal bindings, a tenant's
-- settings. Lists and settings are JSON text; an absent setting takes its
-- default when read.
ALTER TABLE api_keys ADD COLUMN groups_json text NOT NULL DEFAULT '[]';
ALTER TABLE api_keys ADD COLUMN bindings_json text NOT NULL DEFAULT '[]';
ALTER TABLE tenants ADD COLUMN settings_json text NOT NULL DEFAULT '{}';
