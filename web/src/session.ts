import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Session } from './types';

export interface SessionState {
  session: Session;
  /** Viewers only read: every create or change control is left out for them. */
  canWrite: boolean;
  logout(): Promise<void>;
}

export const SessionContext = createContext<SessionState | null>(null);

export function useSession(): SessionState {
  const state = useContext(SessionContext);
  if (!state) throw new Error('useSession outside a logged-in page');
  return state;
}

// One message carried across a navigation (e.g. "password set, log in" from /accept to /login).
let flash: string | null = null;

export function setFlash(message: string): void {
  flash = message;
}

export function takeFlash(): string | null {
  const message = flash;
  flash = null;
  return message;
}
