// The admin API's JSON shapes (snake_case, ISO 8601 times), as the dashboard reads them.
// The source of truth is src/http/routes/api/schemas.ts and /api/v1/openapi.json.

export type Role = 'owner' | 'admin' | 'viewer';

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export interface User {
  id: string;
  email: string;
  role: Role;
  status: 'active' | 'invited' | 'disabled';
  must_change_password: boolean;
  created_at: string;
  last_login_at: string | null;
}

export interface Session {
  user: User;
  vendor: { id: string; name: string; operator: boolean };
  csrf_token: string;
  expires_at: string;
}

export interface Token {
  username: string;
  type: 'vendor' | 'customer';
  name: string;
  customer_id: string | null;
  scopes: string[];
  status: string;
  /** status, or expired for an active token past its expiry */
  state: string;
  expires_at: string | null;
  rate_limit: number | null;
  last_used_at: string | null;
  last_used_ip: string | null;
  created_by: string;
  created_at: string;
  updated_at: string;
}

export interface CreatedToken extends Token {
  secret: string;
  full_token: string;
}

export interface Customer {
  id: string;
  name: string;
  contact: string | null;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
}

export interface CustomerActionSummary {
  action: string;
  customer: { id: string; name: string };
  tokens: string[];
  licenses: string[];
}

export interface License {
  id: string;
  customer_id: string;
  name: string | null;
  repositories: string[];
  plan_id: string | null;
  tags: string[];
  valid_from: string;
  valid_until: string | null;
  status: string;
  created_at: string;
  updated_at: string;
}

export interface Plan {
  id: string;
  name: string;
  description: string | null;
  repositories: string[];
  actions: string[];
}

export interface LicensePreview {
  repositories: { name: string; tags: { tag: string; opened: boolean }[] }[];
  truncated: boolean;
}

export interface AuditEvent {
  id: string;
  at: string;
  actor: string;
  source: string;
  action: string;
  object_type: string;
  object_id: string;
  detail: Record<string, unknown>;
}

export interface UsageEvent {
  id: string;
  at: string;
  action: string;
  repository: string;
  tag: string | null;
  digest: string;
  token: string;
  customer_id: string | null;
  ip: string;
  user_agent: string;
}

export interface UsageCount {
  repository: string;
  tag: string | null;
  pulls: number;
  pushes: number;
  last_at: string;
}

export interface UsageSeries {
  since: string;
  days: string[];
  series: { key: string; label: string; counts: number[] }[];
}

export interface Invitation {
  user: User;
  invitation: { expires_at: string; emailed: boolean; url: string | null; temporary_password: string | null };
}

export interface InvitationInfo {
  email: string;
  vendor: { name: string };
  expires_at: string;
}
