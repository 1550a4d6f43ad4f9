/**
 * A calling service's onboarding from TypeScript, with the official Temporal SDK:
 *
 *   node dist/calling.js [--cpf CPF] [--name NAME] [--request-id ID] [--selfie PATH]
 *
 * The environment says where everything is, as for the Python client:
 *   ONBOARDING_ENCRYPTION_KEYS (or _FILE), ONBOARDING_ENCRYPTION_KEY_ID  the payload keyring
 *   GATEWAY_URL, GATEWAY_API_TOKEN (or _FILE)                            the selfie upload
 *   TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, ONBOARDING_TASK_QUEUE          Temporal
 *
 * It stores the selfie (a generated 640x480 PNG without --selfie), starts the onboarding with
 * update-with-start for its `decision`, prints the decision, then waits for the result.
 */
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import {
  Client,
  Connection,
  WithStartWorkflowOperation,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
  WorkflowUpdateFailedError,
} from '@temporalio/client';
import {
  SearchAttributeType,
  type Workflow,
  WorkflowExecutionAlreadyStartedError,
  defineSearchAttributeKey,
} from '@temporalio/common';
import { EncryptionCodec, parseKeyring } from './codec';
import { samplePng, storeSelfie } from './selfies';

// The contract's names (onboarding_client/contract/names.py).
const WORKFLOW_TYPE = 'Onboarding';
const DECISION_UPDATE = 'decision';
const STAGE_ATTRIBUTE = defineSearchAttributeKey('OnboardingStage', SearchAttributeType.KEYWORD);
const workflowIdFor = (requestId: string): string => `onboarding-${requestId}`;

interface OnboardingRequest {
  request_id: string;
  subject: { code: string; name: string; email?: string; phone?: string };
  use_case?: string;
  selfie_ref: string;
}

interface Reason {
  code: string;
  message: string;
}

interface IdentityDecision {
  outcome: string;
  reasons: Reason[];
  process_id: string | null;
  unico_status: number | null;
  unico_id: string | null;
  score: number | null;
  attempts: number;
}

class ConfigError extends Error {}

/** A secret from NAME, or from the file NAME_FILE names. */
function secret(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name]?.trim();
  if (value) return value;
  const path = env[`${name}_FILE`]?.trim();
  if (!path) return undefined;
  try {
    return readFileSync(path, 'utf8').trim() || undefined;
  } catch (error) {
    throw new ConfigError(`${name}_FILE: cannot read ${path} (${(error as NodeJS.ErrnoException).code})`);
  }
}

function configFrom(env: NodeJS.ProcessEnv) {
  const keys = secret(env, 'ONBOARDING_ENCRYPTION_KEYS');
  if (!keys) {
    throw new ConfigError(
      'ONBOARDING_ENCRYPTION_KEYS (or ONBOARDING_ENCRYPTION_KEYS_FILE) is not set: without the ' +
        'keyring an input would reach Temporal in clear (and be refused)',
    );
  }
  let keyring;
  try {
    keyring = parseKeyring(keys, env.ONBOARDING_ENCRYPTION_KEY_ID || undefined);
  } catch (error) {
    throw new ConfigError(`ONBOARDING_ENCRYPTION_KEYS: ${(error as Error).message}`);
  }
  return {
    keyring,
    gatewayUrl: env.GATEWAY_URL || 'http://127.0.0.1:8088',
    gatewayToken: secret(env, 'GATEWAY_API_TOKEN'),
    // TLS or an API key: Connection.connect's `tls` and `apiKey` options.
    address: env.TEMPORAL_ADDRESS || '127.0.0.1:7233',
    namespace: env.TEMPORAL_NAMESPACE || 'default',
    taskQueue: env.ONBOARDING_TASK_QUEUE || 'onboarding',
  };
}

/** The identity decision alone, from a result that also carries the later steps. */
function identity(result: IdentityDecision): IdentityDecision {
  const { outcome, reasons, process_id, unico_status, unico_id, score, attempts } = result;
  return { outcome, reasons, process_id, unico_status, unico_id, score, attempts };
}

/**
 * Start (or join) the onboarding and wait for its identity decision, in one call: as
 * onboarding_client/onboardings.py start_for_decision does.
 */
async function startForDecision(client: Client, request: OnboardingRequest, taskQueue: string): Promise<IdentityDecision> {
  const workflowId = workflowIdFor(request.request_id);
  const operation = new WithStartWorkflowOperation(WORKFLOW_TYPE, {
    workflowId,
    taskQueue,
    args: [request],
    // One request id is one onboarding: a start while it runs joins it, a start after it
    // ended is refused and finds the ended one, so Unico never gets a second process.
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
    // Never personal data in the summary or the search attributes: they are stored in clear.
    staticSummary: `Unico identity check, use case ${request.use_case ?? 'Onboarding'}`,
    typedSearchAttributes: [{ key: STAGE_ATTRIBUTE, value: 'validating' }],
  });
  try {
    return await client.workflow.executeUpdateWithStart<Workflow, IdentityDecision, []>(DECISION_UPDATE, {
      startWorkflowOperation: operation,
    });
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) {
      // It ended before: its result holds the decision.
      return identity(await client.workflow.getHandle(workflowId).result());
    }
    if (error instanceof WorkflowUpdateFailedError) {
      // The run that took the update continued as new before it answered: ask the new run.
      return await client.workflow.getHandle(workflowId).executeUpdate<IdentityDecision, []>(DECISION_UPDATE);
    }
    throw error;
  }
}

function line(label: string, answer: IdentityDecision): string {
  const reasons = answer.reasons.map((reason) => reason.code).join(',') || '-';
  return `${label}: outcome=${answer.outcome} attempts=${answer.attempts} reasons=${reasons}`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      cpf: { type: 'string', default: '12345678909' },
      name: { type: 'string', default: 'Maria Silva' },
      'request-id': { type: 'string' },
      selfie: { type: 'string' },
    },
  });
  const config = configFrom(process.env);
  const selfie = values.selfie ? readFileSync(values.selfie) : samplePng();
  const selfieRef = await storeSelfie(config.gatewayUrl, config.gatewayToken, selfie);
  console.log(`selfie: ${selfieRef}`);

  const request: OnboardingRequest = {
    request_id: values['request-id'] ?? `example-${randomUUID().replace(/-/g, '').slice(0, 12)}`,
    subject: { code: values.cpf!, name: values.name! },
    selfie_ref: selfieRef,
  };
  const connection = await Connection.connect({ address: config.address });
  try {
    const client = new Client({
      connection,
      namespace: config.namespace,
      dataConverter: {
        payloadConverterPath: require.resolve('./converter'),
        failureConverterPath: require.resolve('./converter'),
        payloadCodecs: [new EncryptionCodec(config.keyring)],
      },
    });
    const decision = await startForDecision(client, request, config.taskQueue);
    console.log(`workflow: ${workflowIdFor(request.request_id)}`);
    console.log(line('decision', decision));
    // The whole journey (review, account, MFA when asked for) ends later.
    const result = await client.workflow.getHandle(workflowIdFor(request.request_id)).result();
    console.log(line('result', result as IdentityDecision));
  } finally {
    await connection.close();
  }
}

main().catch((error: Error) => {
  console.error(`calling: ${error.message}`);
  process.exitCode = error instanceof ConfigError ? 2 : 1;
});
