import type { Command } from 'commander';
import type { Plan } from '../../core/model.js';
import { presentPlan } from '../../present.js';
import { createPlan, deletePlan, resolvePlan } from '../../service/plans.js';
import { details, json, table } from '../output.js';
import { print, withLocal } from '../context.js';

const planDetails = (p: Plan) =>
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
      await withLocal(cmd, async (rt, caller) => {
        const p = await createPlan(rt, caller, { name: opts.name, repositories: opts.repos, actions: opts.actions, description: opts.description });
        print(opts.json ? json(presentPlan(p)) : planDetails(p));
      });
    });

  plan
    .command('list')
    .option('--json', 'print JSON')
    .action(async (opts, cmd: Command) => {
      await withLocal(cmd, async (rt, caller) => {
        const list = await rt.store.listPlans(caller.vendorId);
        if (opts.json) return print(json(list.map(presentPlan)));
        print(table(['id', 'name', 'repositories', 'actions'], list.map((p) => [p.id, p.name, p.repositories, p.actions])));
      });
    });

  plan
    .command('show <plan>')
    .option('--json', 'print JSON')
    .action(async (ref: string, opts, cmd: Command) => {
      await withLocal(cmd, async (rt, caller) => {
        const p = await resolvePlan(rt.store, caller.vendorId, ref);
        print(opts.json ? json(presentPlan(p)) : planDetails(p));
      });
    });

  plan
    .command('delete <plan>')
    .description('delete a plan that no license references')
    .option('--json', 'print JSON')
    .action(async (ref: string, opts, cmd: Command) => {
      await withLocal(cmd, async (rt, caller) => {
        const p = await deletePlan(rt, caller, ref);
        print(opts.json ? json(presentPlan(p)) : `deleted ${p.id} (${p.name})\n`);
      });
    });
}
