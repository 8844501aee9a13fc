/* store_schema.c - numbered schema migrations. Never edit a released step:
 * append a new one. Index i upgrades PRAGMA user_version i to i+1. */
#include "store_internal.h"

const char *const store_migrations[] = {
    /* 1: the fleet registry and configuration (TRD §5, extended for v2).
     * Times are INTEGER seconds since the epoch (UTC). */
    "CREATE TABLE servers ("
    "  server_id TEXT PRIMARY KEY,"
    "  display_name TEXT NOT NULL,"
    "  hostname TEXT NOT NULL,"
    "  ip_address TEXT,"
    "  mac_address TEXT,"
    "  tdp_watts INTEGER NOT NULL DEFAULT 50,"
    "  location TEXT,"
    "  machine_type TEXT NOT NULL DEFAULT 'server'"
    "    CHECK (machine_type IN ('server','workstation')),"
    "  connectivity TEXT NOT NULL DEFAULT 'direct'"
    "    CHECK (connectivity IN ('direct','tailscale')),"
    "  ssh_port INTEGER NOT NULL DEFAULT 22,"
    "  ssh_user TEXT NOT NULL DEFAULT 'homelabcmd',"
    "  tailscale_hostname TEXT,"
    "  tailscale_ip TEXT,"
    "  poll_interval_seconds INTEGER,"
    "  tags TEXT NOT NULL DEFAULT '[]',"
    "  os_distribution TEXT,"
    "  os_version TEXT,"
    "  kernel TEXT,"
    "  architecture TEXT,"
    "  registered_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL,"
    "  last_seen INTEGER,"
    "  status TEXT NOT NULL DEFAULT 'unknown',"
    "  last_error TEXT,"
    "  sort_order INTEGER"
    ");"
    "CREATE TABLE expected_services ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  server_id TEXT NOT NULL REFERENCES servers(server_id) ON DELETE CASCADE,"
    "  service_name TEXT NOT NULL,"
    "  critical INTEGER NOT NULL DEFAULT 1,"
    "  created_at INTEGER NOT NULL,"
    "  UNIQUE(server_id, service_name)"
    ");"
    "CREATE TABLE config ("
    "  key TEXT PRIMARY KEY,"
    "  value TEXT NOT NULL,"
    "  updated_at INTEGER NOT NULL"
    ");",
};

const int store_nmigrations = (int)(sizeof(store_migrations) / sizeof(store_migrations[0]));
