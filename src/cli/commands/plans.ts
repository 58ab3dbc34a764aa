import type { Command } from 'commander';
import type { presentPlan } from '../../present.js';
import { details, json, table } from '../output.js';
import { print, withApi } from '../context.js';

type PlanJson = ReturnType<typeof presentPlan>;

const planDetails = (p: PlanJson) =>
  details([
    ['id', p.id],
    ['name', p.name],
    ['description', p.description],
    ['repositories', p.repositories],
    ['actions', p.actions],
  ]);

export function registerPlanCommands(program: Command): void {
  const plan = program.command('plan').description('named sets of repository patterns that licenses can reference');

  plan
    .command('create')
    .requiredOption('--name <name>', 'unique name')
    .requiredOption('--repos <patterns>', 'repository patterns, comma separated')
    .option('--actions <actions>', 'pull, push, delete (default pull)')
    .option('--description <text>', 'what the plan is for')
    .option('--json', 'print JSON')
    .action(async (opts, cmd: Command) => {
      await withApi(cmd, async (api) => {
        const p = await api.request<PlanJson>('POST', '/api/v1/plans', { body: { name: opts.name, repositories: opts.repos, actions: opts.actions, description: opts.description } });
        print(opts.json ? json(p) : planDetails(p));
      });
    });

  plan
    .command('list')
    .option('--json', 'print JSON')
    .action(async (opts, cmd: Command) => {
      await withApi(cmd, async (api) => {
        const list = await api.all<PlanJson>('/api/v1/plans');
        if (opts.json) return print(json(list));
        print(table(['id', 'name', 'repositories', 'actions'], list.map((p) => [p.id, p.name, p.repositories, p.actions])));
      });
    });

  plan
    .command('show <plan>')
    .option('--json', 'print JSON')
    .action(async (ref: string, opts, cmd: Command) => {
      await withApi(cmd, async (api) => {
        const p = await api.get<PlanJson>(`/api/v1/plans/${encodeURIComponent(ref)}`);
        print(opts.json ? json(p) : planDetails(p));
      });
    });

  plan
    .command('delete <plan>')
    .description('delete a plan that no license references')
    .option('--json', 'print JSON')
    .action(async (ref: string, opts, cmd: Command) => {
      await withApi(cmd, async (api) => {
        const p = await api.request<PlanJson>('DELETE', `/api/v1/plans/${encodeURIComponent(ref)}`);
        print(opts.json ? json(p) : `deleted ${p.id} (${p.name})\n`);
      });
    });
}
