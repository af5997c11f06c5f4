/** Every migration, in order. Migrations are immutable once released: add new ones. */
import { Initial1764000000001 } from './0001-initial.js';
import { NodesAndJobs1764000000002 } from './0002-nodes-and-jobs.js';
import { DispatchIndexes1764000000003 } from './0003-dispatch-indexes.js';
import { Triggers1764000000004 } from './0004-triggers.js';
import { Webhooks1764000000005 } from './0005-webhooks.js';
import { MailOutbox1764000000006 } from './0006-mail-outbox.js';
import { WebSessions1764000000007 } from './0007-web-sessions.js';

export const migrations = [
  Initial1764000000001,
  NodesAndJobs1764000000002,
  DispatchIndexes1764000000003,
  Triggers1764000000004,
  Webhooks1764000000005,
  MailOutbox1764000000006,
  WebSessions1764000000007,
];
