/**
 * The Grafana dashboards of infra/grafana/dashboards as the queries Grafana would
 * send: every target of every panel, with template variables resolved the way the
 * dashboard shows them by default (a repeated row once per value of its variable,
 * everything else with "All").
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REPO_ROOT } from '@ser/launcher';

export const DASHBOARDS_DIR = join(REPO_ROOT, 'infra', 'grafana', 'dashboards');

export interface GrafanaTarget {
  refId: string;
  expr?: string;
  datasource?: { type?: string; uid?: string };
}

export interface GrafanaPanel {
  id: number;
  type: string;
  title: string;
  repeat?: string;
  collapsed?: boolean;
  datasource?: { type?: string; uid?: string };
  gridPos?: { h: number; w: number; x: number; y: number };
  targets?: GrafanaTarget[];
  panels?: GrafanaPanel[];
}

export interface GrafanaDashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: GrafanaPanel[];
  templating: { list: { name: string; type: string; allValue?: string; includeAll?: boolean }[] };
}

export async function loadDashboard(file: string): Promise<GrafanaDashboard> {
  return JSON.parse(await readFile(join(DASHBOARDS_DIR, file), 'utf8')) as GrafanaDashboard;
}

/** Panels in display order, each with the row it sits in (nested in a collapsed row or after an open one). */
export function panelsWithRows(dashboard: GrafanaDashboard): { panel: GrafanaPanel; row?: GrafanaPanel }[] {
  const out: { panel: GrafanaPanel; row?: GrafanaPanel }[] = [];
  let row: GrafanaPanel | undefined;
  for (const panel of dashboard.panels) {
    if (panel.type === 'row') {
      row = panel;
      for (const nested of panel.panels ?? []) out.push({ panel: nested, row });
    } else out.push({ panel, row });
  }
  return out;
}

/** Grafana's built-in interval variables, as a test with a short history needs them. */
export const BUILTIN_VARIABLES: Record<string, string> = {
  __rate_interval: '1m',
  __interval: '15s',
  __range: '5m',
};

export interface PanelQuery {
  /** "Dashboard › Panel › A", plus the repeat value when the panel is repeated. */
  name: string;
  expr: string;
}

/**
 * Every panel target's expression with its variables replaced. `values` gives each
 * dashboard variable's concrete values (what `label_values(...)` would list); a
 * panel repeated by a variable (itself or through its row) is queried once per value,
 * other panels get the variable's "All" value (its allValue, else the values joined).
 */
export function panelQueries(dashboard: GrafanaDashboard, values: Record<string, string[]>): PanelQuery[] {
  const queries: PanelQuery[] = [];
  const all: Record<string, string> = {};
  for (const variable of dashboard.templating?.list ?? []) {
    const concrete = values[variable.name];
    if (!concrete) throw new Error(`${dashboard.title}: no values given for the variable $${variable.name}`);
    all[variable.name] = variable.allValue ?? concrete.join('|');
  }
  for (const { panel, row } of panelsWithRows(dashboard)) {
    const repeat = panel.repeat ?? row?.repeat;
    for (const repeatValue of repeat ? values[repeat] : [undefined]) {
      const vars: Record<string, string> = { ...BUILTIN_VARIABLES, ...all, ...(repeat ? { [repeat]: repeatValue! } : {}) };
      for (const target of panel.targets ?? []) {
        if (!target.expr) continue;
        const expr = target.expr.replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g, (whole, braced: string, bare: string) => {
          const value = vars[braced ?? bare];
          if (value === undefined) throw new Error(`${dashboard.title} › ${panel.title}: unknown variable ${whole}`);
          return value;
        });
        const where = repeat ? ` [${repeat}=${repeatValue}]` : '';
        queries.push({ name: `${dashboard.title} › ${panel.title} › ${target.refId}${where}`, expr });
      }
    }
  }
  return queries;
}
