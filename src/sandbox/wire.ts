// `serve --sandbox`: every provider of the policy points at a built-in simulator, and keys left
// empty get the simulators' own. Without --sandbox this module is never used, so nothing is ever
// sent to a simulator in production.
import type { ProviderSpec } from '../policy/types.js';
import { SANDBOX_OPSGENIE_API_KEY, SANDBOX_PAGERDUTY_ROUTING_KEY, type Sandbox } from './index.js';

export function pointAtSandbox(sandbox: Sandbox) {
  return (specs: Readonly<Record<string, ProviderSpec>>): Record<string, ProviderSpec> => {
    const out: Record<string, ProviderSpec> = {};
    for (const [name, spec] of Object.entries(specs)) {
      switch (spec.type) {
        case 'pagerduty':
          out[name] = {
            ...spec,
            url: sandbox.urls.pagerdutyEvents,
            routing_key: spec.routing_key || SANDBOX_PAGERDUTY_ROUTING_KEY,
          };
          break;
        case 'opsgenie':
          out[name] = {
            ...spec,
            url: sandbox.urls.opsgenie,
            api_key: spec.api_key || SANDBOX_OPSGENIE_API_KEY,
          };
          break;
        case 'webhook':
          out[name] = { ...spec, url: `${sandbox.urls.webhook}/${encodeURIComponent(name)}` };
          break;
      }
    }
    return out;
  };
}
