/** Row shapes as stored: the same on SQLite and PostgreSQL (see migrations). */
export interface VendorRow {
  id: string;
  name: string;
  namespaces: string;
  is_operator: number;
  created_at: string;
}

export interface CustomerRow {
  id: string;
  vendor_id: string;
  name: string;
  contact: string | null;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
}

export interface PlanRow {
  id: string;
  vendor_id: string;
  name: string;
  description: string | null;
  repositories: string;
  actions: string;
  created_at: string;
  updated_at: string;
}

export interface LicenseRow {
  id: string;
  vendor_id: string;
  customer_id: string;
  name: string | null;
  plan_id: string | null;
  repositories: string;
  tags: string;
  valid_from: string;
  valid_until: string | null;
  status: string;
  created_at: string;
  updated_at: string;
  /** Set while a customer-wide suspend holds it (0003). */
  held_since: string | null;
}

export interface TokenRow {
  id: string;
  type: string;
  vendor_id: string;
  customer_id: string | null;
  name: string;
  secret_hash: string;
  scopes: string;
  status: string;
  expires_at: string | null;
  rate_limit: number | null;
  last_used_at: string | null;
  last_used_ip: string | null;
  created_by: string;
  created_at: string;
  updated_at: string;
  /** Set while a customer-wide suspend holds it (0003). */
  held_since: string | null;
}

export interface AuditEventRow {
  id: string;
  vendor_id: string;
  at: string;
  actor: string;
  source: string;
  action: string;
  object_type: string;
  object_id: string;
  detail: string;
}

export interface RegistryManifestRow {
  repository: string;
  digest: string;
  media_type: string;
  size: number;
  subject: string | null;
  artifact_type: string | null;
  annotations: string | null;
  children: string;
  created_at: string;
}

export interface RegistryTagRow {
  repository: string;
  tag: string;
  digest: string;
  updated_at: string;
}

export interface RegistryBlobRow {
  repository: string;
  digest: string;
  size: number;
  created_at: string;
}

export interface UsageEventRow {
  id: string;
  at: string;
  vendor_id: string;
  token_id: string;
  customer_id: string | null;
  action: string;
  repository: string;
  tag: string | null;
  digest: string;
  ip: string;
  user_agent: string;
}

export interface ExpiryWarningRow {
  object_type: string;
  object_id: string;
  vendor_id: string;
  ends_at: string;
  claimed_at: string;
  sent_at: string | null;
}

export interface UserRow {
  id: string;
  vendor_id: string;
  email: string;
  role: string;
  status: string;
  /** argon2id (PHC string); null while invited. */
  password_hash: string | null;
  must_change_password: number;
  created_at: string;
  updated_at: string;
  last_login_at: string | null;
}

export interface SessionRow {
  /** HMAC of the cookie's secret. */
  id: string;
  user_id: string;
  vendor_id: string;
  created_at: string;
  expires_at: string;
  last_seen_at: string;
}

export interface InvitationRow {
  /** HMAC of the link's token. */
  id: string;
  user_id: string;
  vendor_id: string;
  created_by: string;
  created_at: string;
  expires_at: string;
  used_at: string | null;
}

export interface Database {
  vendors: VendorRow;
  customers: CustomerRow;
  plans: PlanRow;
  licenses: LicenseRow;
  tokens: TokenRow;
  audit_events: AuditEventRow;
  registry_manifests: RegistryManifestRow;
  registry_tags: RegistryTagRow;
  registry_blobs: RegistryBlobRow;
  usage_events: UsageEventRow;
  expiry_warnings: ExpiryWarningRow;
  users: UserRow;
  sessions: SessionRow;
  invitations: InvitationRow;
}
