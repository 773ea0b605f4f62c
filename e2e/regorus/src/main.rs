//! agent-policy-eval: evaluates an agent policy with regorus as the kata
//! agent does, for cocogen's tests (policies/regorus_test.go).
//!
//! Reads one JSON object on stdin (the answer is the last line of stdout:
//! regorus 0.2.8 prints its parser warnings there too):
//!   {"engine": "kata3" | "kata4", "policy": "<rego>",
//!    "sequences": [[{"kind": "CreateContainerRequest", "input": {...}}, ...], ...]}
//! and writes one JSON object on stdout, a result per sequence, each
//! evaluated on a fresh engine (a new sandbox):
//!   {"sequences": [{"allowFailures": bool,
//!                   "results": [{"allowed": bool} | {"error": "..."}],
//!                   "state": <engine data after the last request>}, ...]}
//! or {"loadError": "..."} when the policy does not load.
//!
//! The agent's behaviour, from kata-containers src/agent/policy/src/policy.rs
//! at 3.25.0 and 4.0.0 (read, not copied):
//! - a fresh engine with strict builtin errors off, prints gathered, and
//!   data {"pstate": {}}; the policy is added as module "agent_policy";
//! - AllowRequestsFailingPolicy is queried once with input {} when the
//!   policy is set; an error there counts as false;
//! - each request evaluates data.agent_policy.<kind> with the request JSON
//!   as input; exactly one result with one expression is required, else an
//!   error (or allowed, when failures are allowed);
//! - the value is a boolean, or an object {allowed, ops}: when allowed,
//!   ops (RFC 6902) are applied to the engine's whole data, which replaces
//!   it;
//! - a denial is turned into allowed when failures are allowed.
//! Requests are evaluated in order, so state carries from one to the next.

use anyhow::{anyhow, bail, Result};
use serde::Deserialize;
use serde_json::{json, Value};
use std::io::Read;

#[derive(Deserialize)]
struct Job {
    engine: String,
    policy: String,
    sequences: Vec<Vec<Request>>,
}

#[derive(Deserialize)]
struct Request {
    kind: String,
    input: Value,
}

#[derive(Deserialize)]
struct Metadata {
    allowed: bool,
    ops: Option<json_patch::Patch>,
}

/// The agent's evaluation loop, written once for both regorus versions
/// (their Engine API is the same for what the agent uses).
macro_rules! agent {
    ($name:ident, $regorus:ident) => {
        mod $name {
            use super::*;
            use $regorus as regorus;

            fn new_engine() -> Result<regorus::Engine> {
                let mut engine = regorus::Engine::new();
                engine.set_strict_builtin_errors(false);
                engine.set_gather_prints(true);
                engine.add_data(regorus::Value::from_json_str(r#"{"pstate": {}}"#)?)?;
                Ok(engine)
            }

            fn decide(engine: &mut regorus::Engine, kind: &str, input: &str, allow_failures: bool) -> Result<bool> {
                engine.set_input_json(input)?;
                let results = engine.eval_query(format!("data.agent_policy.{kind}"), false)?;
                let _ = engine.take_prints();
                if results.result.len() != 1 {
                    if allow_failures {
                        return Ok(true);
                    }
                    bail!("unexpected number of results: {}", results.result.len());
                }
                if results.result[0].expressions.len() != 1 {
                    bail!("unexpected number of expressions: {}", results.result[0].expressions.len());
                }
                let allowed = match &results.result[0].expressions[0].value {
                    regorus::Value::Bool(b) => *b,
                    regorus::Value::Object(obj) => {
                        let meta: Metadata = serde_json::from_str(&serde_json::to_string(obj)?)?;
                        if meta.allowed {
                            if let Some(ops) = meta.ops {
                                let mut state = serde_json::to_value(engine.get_data())?;
                                json_patch::patch(&mut state, &ops)?;
                                engine.clear_data();
                                engine.add_data(regorus::Value::from_json_str(&state.to_string())?)?;
                            }
                        }
                        meta.allowed
                    }
                    other => bail!("result is neither a boolean nor an object: {other:?}"),
                };
                Ok(allowed || allow_failures)
            }

            pub fn run(job: &Job) -> Result<Value> {
                let mut out = Vec::new();
                for seq in &job.sequences {
                    out.push(sequence(&job.policy, seq)?);
                }
                Ok(json!({ "sequences": out }))
            }

            fn sequence(policy: &str, requests: &[Request]) -> Result<Value> {
                let mut engine = new_engine()?;
                engine.add_policy("agent_policy".to_string(), policy.to_string())?;
                let allow_failures = decide(&mut engine, "AllowRequestsFailingPolicy", "{}", false).unwrap_or(false);
                let mut results = Vec::new();
                for r in requests {
                    let input = serde_json::to_string(&r.input)?;
                    results.push(match decide(&mut engine, &r.kind, &input, allow_failures) {
                        Ok(allowed) => json!({ "allowed": allowed }),
                        Err(e) => json!({ "error": format!("{e:#}") }),
                    });
                }
                Ok(json!({
                    "allowFailures": allow_failures,
                    "results": results,
                    "state": serde_json::to_value(engine.get_data())?,
                }))
            }
        }
    };
}

agent!(kata3, regorus_kata3);
agent!(kata4, regorus_kata4);

fn main() -> Result<()> {
    let mut text = String::new();
    std::io::stdin().read_to_string(&mut text)?;
    let job: Job = serde_json::from_str(&text)?;
    let out = match job.engine.as_str() {
        "kata3" => kata3::run(&job),
        "kata4" => kata4::run(&job),
        other => Err(anyhow!("unknown engine {other:?}: want kata3 or kata4")),
    };
    match out {
        Ok(v) => println!("{v}"),
        // A policy regorus cannot load is a result, not a harness failure.
        Err(e) => println!("{}", json!({ "loadError": format!("{e:#}") })),
    }
    Ok(())
}
