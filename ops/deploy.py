"""`make deploy STAGE=...` / `make destroy STAGE=...`: a stage on a real AWS account.

deploy:
1. creates or updates the CloudFormation stack `<app>-<stage>` from
   ops/template.yaml (the bucket, the table, the failed-events queue and the
   alarms; boto3, no AWS CLI needed);
2. writes the stack outputs into the stage's environment variables in
   `.chalice/config.json` and regenerates each function's
   `.chalice/policy-<stage>-<function>.json`, which must name the real bucket
   and table (ops/policy.py);
3. runs `chalice deploy --stage <stage>` (through ops.chalice_cli, which pins
   the Lambda runtime), then gives the functions' log groups a retention,
   points the S3 handlers' failures at the queue and throttles the API
   (ops/wiring.py);
4. the first time, offers the reconcile that indexes images already in the
   bucket (asks on a terminal; otherwise prints the command).

destroy: `chalice delete`, the log groups, then the stack. The table goes;
the bucket and its images stay unless `--delete-data` is given (and then only
a bucket `make deploy` created for the stage). On a terminal it asks first.

The AWS profile and region come from `--profile`/`--region` or the usual
AWS_PROFILE and AWS_REGION/AWS_DEFAULT_REGION variables; Chalice gets the same.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError, NoCredentialsError, ProfileNotFound, WaiterError

from devstack.stages import stage_variables
from ops.policy import (
    functions,
    load_config,
    stage_settings,
    use_function_policies,
    write_atomically,
    write_stage_policies,
)
from ops.table_steps import index_change, index_steps, load_template
from ops.wiring import (
    connect_failure_destinations,
    deployed_resources,
    set_throttling,
    throttle_settings,
)

REPO_DIR = Path(__file__).resolve().parent.parent
TEMPLATE = Path(__file__).resolve().parent / "template.yaml"

# Lambda creates log groups that keep everything forever; these expire instead.
LOG_RETENTION_DAYS = 30

# Runs a command (argv, environment) in the repository and returns its exit status.
Runner = Callable[[Sequence[str], Mapping[str, str]], int]
Ask = Callable[[str], bool]

# Stacks in these states can be updated; ROLLBACK_COMPLETE (a failed first
# create) can only be deleted and created again.
_UPDATABLE = {
    "CREATE_COMPLETE",
    "UPDATE_COMPLETE",
    "UPDATE_ROLLBACK_COMPLETE",
    "IMPORT_COMPLETE",
    "IMPORT_ROLLBACK_COMPLETE",
}


class DeployError(Exception):
    """Something the user has to fix; printed without a traceback."""


@dataclass(frozen=True)
class StageResources:
    bucket: str
    table: str
    bucket_created_by_stack: bool
    failed_events_queue: str | None = None  # ARN (stacks from before it existed: None)


def run_command(command: Sequence[str], env: Mapping[str, str]) -> int:
    return subprocess.call(list(command), env=dict(env), cwd=REPO_DIR)


def ask_on_terminal(question: str) -> bool:
    return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")


def stack_name(config: Mapping[str, Any], stage: str) -> str:
    return f"{config['app_name']}-{stage}"


def deploy(
    stage: str,
    session: Any,
    *,
    project_dir: Path = REPO_DIR,
    runner: Runner = run_command,
    ask: Ask | None = None,
    profile: str | None = None,
    existing_bucket: str | None = None,
    versioning: bool | None = None,
    log_retention_days: int = LOG_RETENTION_DAYS,
    alarm_email: str | None = None,
    out: Callable[[str], None] = print,
) -> StageResources:
    """Deploy `stage`: resources, config, Chalice; see the module docstring.

    `ask` answers yes/no questions; None means nobody is there to answer
    (stdin is not a terminal), so questions become printed hints.
    """
    config = load_config(project_dir)
    _check_stage(config, stage)
    region = _region(session)
    try:
        throttle = throttle_settings(stage_variables(config, stage))
    except ValueError as error:
        raise DeployError(str(error)) from None
    # Chalice records what it deployed; nothing recorded (or all deleted) means first.
    first_deploy = not _deployed_resources(project_dir, stage)

    name = stack_name(config, stage)
    out(f"Deploying stack {name} (bucket, table, failed-events queue, alarms) in {region} ...")
    resources = deploy_stack(
        session.client("cloudformation"),
        name,
        TEMPLATE.read_text(),
        _parameters(config, stage, existing_bucket, versioning, alarm_email),
        out,
    )
    out(f"  bucket: {resources.bucket}\n  table:  {resources.table}")

    write_stage_resources(project_dir, stage, resources)
    out(f"Wrote the names into .chalice/config.json and the stage's policy ({stage}).")

    env = _child_env(region, profile)
    command = chalice_command(project_dir, "deploy", stage, profile)
    out("Running chalice deploy ...")
    if runner(command, env) != 0:
        raise DeployError(f"chalice deploy failed; fix the error above and run it again: {stage}")
    set_log_retention(session.client("logs"), _log_groups(project_dir, stage), log_retention_days)
    deployed = deployed_resources(project_dir, stage)
    if resources.failed_events_queue:
        wired = connect_failure_destinations(
            session.client("lambda"), deployed, resources.failed_events_queue
        )
        out(f"Failed events of {', '.join(wired)} go to the failed-events queue.")
    api_stage = config["stages"][stage].get("api_gateway_stage", "api")
    if set_throttling(session.client("apigateway"), deployed, api_stage, *throttle):
        out(f"API throttled to {throttle[0]:g} requests/s, bursts of {throttle[1]}.")

    prefix = stage_settings(load_config(project_dir), stage).prefix
    out(f"Deployed. Images uploaded under s3://{resources.bucket}/{prefix} get indexed.")
    if first_deploy:
        offer_reconcile(stage, runner, env, ask, out)
    return resources


def offer_reconcile(
    stage: str,
    runner: Runner,
    env: Mapping[str, str],
    ask: Ask | None,
    out: Callable[[str], None] = print,
) -> bool:
    """After a first deploy: index the images already in the bucket. True if it ran."""
    command = ["make", "reconcile", f"STAGE={stage}"]
    hint = " ".join(command)
    question = "Index the images already in the bucket now (reconcile)?"
    if ask is None:
        out(f"Images already in the bucket are not indexed yet; to index them run: {hint}")
        return False
    if not ask(question):
        out(f"Skipped. To index existing images later: {hint}")
        return False
    if runner(command, env) != 0:
        raise DeployError(f"reconcile failed; it is safe to run again: {hint}")
    return True


def destroy(
    stage: str,
    session: Any,
    *,
    project_dir: Path = REPO_DIR,
    runner: Runner = run_command,
    profile: str | None = None,
    delete_data: bool = False,
    out: Callable[[str], None] = print,
) -> None:
    """Remove the functions, the API and the table; the bucket only with `delete_data`."""
    config = load_config(project_dir)
    _check_stage(config, stage)
    region = _region(session)
    env = _child_env(region, profile)

    if _deployed_resources(project_dir, stage):
        log_groups = _log_groups(project_dir, stage)
        out("Running chalice delete ...")
        if runner(chalice_command(project_dir, "delete", stage, profile), env) != 0:
            raise DeployError("chalice delete failed; nothing else was removed")
        delete_log_groups(session.client("logs"), log_groups)
    else:
        out(f"No Chalice deployment recorded for stage {stage}; skipping chalice delete.")

    cloudformation = session.client("cloudformation")
    name = stack_name(config, stage)
    stack = _describe_stack(cloudformation, name)
    bucket = stack_outputs(stack).get("BucketName") if stack else None
    if stack:
        out(f"Deleting stack {name} (the table; the bucket is kept) ...")
        cloudformation.delete_stack(StackName=name)
        _wait(cloudformation, "stack_delete_complete", name)
    else:
        out(f"No stack {name} in {region}.")
    bucket = bucket or _configured_bucket(config, stage)
    if not bucket:
        return
    s3 = session.client("s3")
    if not _created_for_stage(s3, bucket, config["app_name"], stage):
        out(f"Bucket {bucket} was not created by `make deploy` for {stage}; left as it is.")
    elif delete_data:
        out(f"Deleting bucket {bucket} and every object version in it ...")
        delete_bucket(s3, bucket)
    else:
        out(
            f"Kept bucket {bucket} and its images. Reuse it with "
            f"`make deploy STAGE={stage} BUCKET={bucket}`, or delete it with "
            f"`make destroy STAGE={stage} DELETE_DATA=1`."
        )


def deploy_stack(
    cloudformation: Any,
    name: str,
    template: str,
    parameters: dict[str, str | None],
    out: Callable[[str], None] = print,
) -> StageResources:
    """Create or update the stack and return its outputs.

    A parameter given as None keeps its previous value on update (and its
    default on create).
    """
    stack = _describe_stack(cloudformation, name)
    if stack and stack["StackStatus"] == "ROLLBACK_COMPLETE":
        # A failed first create leaves a stack that can only be deleted.
        cloudformation.delete_stack(StackName=name)
        _wait(cloudformation, "stack_delete_complete", name)
        stack = None
    if stack and stack["StackStatus"] not in _UPDATABLE:
        raise DeployError(f"stack {name} is {stack['StackStatus']}; try again when it settles")
    common = {"StackName": name, "TemplateBody": template}
    if stack is None:
        given = [{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items() if v]
        cloudformation.create_stack(
            **common,
            Parameters=given,
            OnFailure="ROLLBACK",
        )
        _wait(cloudformation, "stack_create_complete", name)
    else:
        update = [
            {"ParameterKey": k, "ParameterValue": v}
            if v is not None
            else {"ParameterKey": k, "UsePreviousValue": True}
            for k, v in parameters.items()
            if v is not None or _has_parameter(stack, k)
        ]
        # Several index changes need several updates (ops/table_steps.py).
        deployed = _deployed_template(cloudformation, name)
        target = load_template(template)
        steps = [*index_steps(deployed, target), target]
        for number, step in enumerate(steps, 1):
            if len(steps) > 1:
                change = index_change(deployed, step)
                out(f"  table: {change} (update {number} of {len(steps)}, one index each)")
            _update(cloudformation, name, template if step is target else json.dumps(step), update)
            deployed = step
    outputs = stack_outputs(_describe_stack(cloudformation, name))
    return StageResources(
        bucket=outputs["BucketName"],
        table=outputs["TableName"],
        bucket_created_by_stack=outputs.get("BucketCreatedByStack") == "true",
        failed_events_queue=outputs.get("FailedEventsQueueArn"),
    )


def _update(cloudformation: Any, name: str, template: str, parameters: list[dict]) -> None:
    try:
        cloudformation.update_stack(StackName=name, TemplateBody=template, Parameters=parameters)
    except ClientError as error:
        if "No updates are to be performed" not in str(error):
            raise
    else:
        _wait(cloudformation, "stack_update_complete", name)


def _deployed_template(cloudformation: Any, name: str) -> dict[str, Any]:
    body = cloudformation.get_template(StackName=name, TemplateStage="Original")["TemplateBody"]
    # boto3 hands a JSON template back already parsed, a YAML one as text.
    return body if isinstance(body, dict) else load_template(body)


def stack_outputs(stack: Mapping[str, Any] | None) -> dict[str, str]:
    return {o["OutputKey"]: o["OutputValue"] for o in (stack or {}).get("Outputs", [])}


def write_stage_resources(project_dir: Path, stage: str, resources: StageResources) -> None:
    """Put the bucket and table names into the stage's config and regenerate its policies."""
    path = project_dir / ".chalice" / "config.json"
    config = json.loads(path.read_text())
    stage_config = config["stages"][stage]
    env = stage_config.setdefault("environment_variables", {})
    env["IMAGES_BUCKET"] = resources.bucket
    env["IMAGES_TABLE"] = resources.table
    # Never let Chalice generate a policy for a deployed stage (it grants `*`):
    # each function gets its own, generated by ops/policy.py.
    use_function_policies(stage_config, stage, functions(config))
    write_atomically(path, json.dumps(config, indent=2) + "\n")
    write_stage_policies(stage, project_dir)


def chalice_command(project_dir: Path, command: str, stage: str, profile: str | None) -> list[str]:
    """The Chalice CLI (runtime pinned) for `command` on `stage`."""
    argv = [sys.executable, "-m", "ops.chalice_cli", "--project-dir", str(project_dir)]
    argv += [command, "--stage", stage]
    return argv + (["--profile", profile] if profile else [])


def set_log_retention(logs: Any, groups: Sequence[str], days: int) -> None:
    """Create the functions' log groups now, with a retention, before Lambda does without."""
    for group in groups:
        try:
            logs.create_log_group(logGroupName=group)
        except ClientError as error:
            if error.response["Error"]["Code"] != "ResourceAlreadyExistsException":
                raise
        logs.put_retention_policy(logGroupName=group, retentionInDays=days)


def delete_log_groups(logs: Any, groups: Sequence[str]) -> None:
    for group in groups:
        try:
            logs.delete_log_group(logGroupName=group)
        except ClientError as error:
            if error.response["Error"]["Code"] != "ResourceNotFoundException":
                raise


def _deployed_resources(project_dir: Path, stage: str) -> list[dict[str, Any]]:
    return deployed_resources(project_dir, stage)


def _log_groups(project_dir: Path, stage: str) -> list[str]:
    """The log groups of the stage's deployed functions."""
    return [
        "/aws/lambda/" + resource["lambda_arn"].rsplit(":", 1)[1]
        for resource in _deployed_resources(project_dir, stage)
        if resource.get("resource_type") == "lambda_function" and resource.get("lambda_arn")
    ]


def delete_bucket(s3: Any, bucket: str) -> None:
    """Delete every object version and delete marker, then the bucket."""
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        doomed = [
            {"Key": v["Key"], "VersionId": v["VersionId"]}
            for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
        ]
        # Pages hold at most 1000 entries, DeleteObjects' own limit.
        if doomed:
            response = s3.delete_objects(Bucket=bucket, Delete={"Objects": doomed, "Quiet": True})
            if response.get("Errors"):
                raise DeployError(f"could not delete some objects: {response['Errors'][:3]}")
    s3.delete_bucket(Bucket=bucket)


def _parameters(
    config: Mapping[str, Any],
    stage: str,
    existing_bucket: str | None,
    versioning: bool | None,
    alarm_email: str | None = None,
) -> dict[str, str | None]:
    return {
        "AppName": str(config["app_name"]),
        "Stage": stage,
        "TableName": f"{config['app_name']}-{stage}",
        "ExistingBucketName": existing_bucket,
        "Versioning": None if versioning is None else str(versioning).lower(),
        "NoncurrentVersionDays": None,
        # None keeps the address given before; "" (ALARM_EMAIL=) removes it.
        "AlarmEmail": alarm_email,
    }


def _check_stage(config: Mapping[str, Any], stage: str) -> None:
    stages = [s for s in config.get("stages", {}) if s != "local"]
    if stage == "local":
        raise DeployError("the local stage runs on your machine (make dev); deploy dev or prod")
    if stage not in stages:
        raise DeployError(f"unknown stage {stage!r}; .chalice/config.json has {stages}")


def _region(session: Any) -> str:
    if not session.region_name:
        raise DeployError("no AWS region: set AWS_REGION (or AWS_DEFAULT_REGION) or --region")
    return session.region_name


def _child_env(region: str, profile: str | None) -> dict[str, str]:
    # Chalice and the reconcile command must act on the account and region
    # the stack went to, whatever else the environment says.
    env = dict(os.environ)
    env.update(AWS_DEFAULT_REGION=region, AWS_REGION=region)
    if profile:
        env["AWS_PROFILE"] = profile
    return env


def _describe_stack(cloudformation: Any, name: str) -> dict[str, Any] | None:
    try:
        return cloudformation.describe_stacks(StackName=name)["Stacks"][0]
    except ClientError as error:
        if "does not exist" in str(error):
            return None
        raise


def _has_parameter(stack: Mapping[str, Any], key: str) -> bool:
    return any(p["ParameterKey"] == key for p in stack.get("Parameters", []))


def _wait(cloudformation: Any, waiter: str, name: str) -> None:
    try:
        cloudformation.get_waiter(waiter).wait(
            StackName=name, WaiterConfig={"Delay": 5, "MaxAttempts": 360}
        )
    except WaiterError as error:
        reasons = _failure_reasons(cloudformation, name)
        raise DeployError(f"stack {name}: {waiter} failed{reasons}") from error


def _failure_reasons(cloudformation: Any, name: str) -> str:
    try:
        events = cloudformation.describe_stack_events(StackName=name)["StackEvents"]
    except ClientError:
        return ""
    reasons = [
        f"\n  {e['LogicalResourceId']}: {e.get('ResourceStatusReason', '')}"
        for e in events
        if e.get("ResourceStatus", "").endswith("FAILED")
    ]
    return "".join(reasons[:5])


def _configured_bucket(config: Mapping[str, Any], stage: str) -> str | None:
    bucket = config["stages"][stage].get("environment_variables", {}).get("IMAGES_BUCKET")
    return None if not bucket or bucket.startswith("change-me") else bucket


def _created_for_stage(s3: Any, bucket: str, app_name: str, stage: str) -> bool:
    """Whether the bucket carries the tags ops/template.yaml puts on buckets it creates."""
    try:
        tags = s3.get_bucket_tagging(Bucket=bucket)["TagSet"]
    except ClientError:
        return False  # gone, not ours, or untagged
    found = {t["Key"]: t["Value"] for t in tags}
    return found.get("app") == app_name and found.get("stage") == stage


def main(
    argv: list[str] | None = None,
    *,
    project_dir: Path = REPO_DIR,
    runner: Runner = run_command,
    ask: Ask | None = None,
) -> int:
    """The command line; `project_dir`, `runner` and `ask` are for tests."""
    parser = argparse.ArgumentParser(description="Deploy or destroy a stage on AWS.")
    parser.add_argument("command", choices=["deploy", "destroy"])
    parser.add_argument("--stage", default="dev")
    parser.add_argument("--profile", default=os.environ.get("AWS_PROFILE") or None)
    parser.add_argument(
        "--region", default=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    )
    parser.add_argument("--bucket", help="use this existing bucket instead of creating one")
    parser.add_argument(
        "--versioning", choices=["true", "false"], help="keep previous object versions"
    )
    parser.add_argument(
        "--log-retention-days", type=int, default=LOG_RETENTION_DAYS, help="deploy: log retention"
    )
    parser.add_argument("--alarm-email", help="deploy: send the stage's alarms to this address")
    parser.add_argument("--delete-data", action="store_true", help="destroy: delete the bucket")
    args = parser.parse_args(argv)

    if os.environ.get("AWS_ENDPOINT_URL"):
        print("note: AWS_ENDPOINT_URL is set; deploying there, not to AWS", file=sys.stderr)
    if ask is None and sys.stdin.isatty():
        ask = ask_on_terminal
    try:
        session = boto3.session.Session(profile_name=args.profile, region_name=args.region)
        if args.command == "deploy":
            deploy(
                args.stage,
                session,
                project_dir=project_dir,
                runner=runner,
                ask=ask,
                profile=args.profile,
                existing_bucket=args.bucket,
                versioning=None if args.versioning is None else args.versioning == "true",
                log_retention_days=args.log_retention_days,
                alarm_email=args.alarm_email,
            )
        else:
            what = "functions, API, table" + (", bucket and images" if args.delete_data else "")
            if ask is not None and not ask(f"Delete stage {args.stage} ({what})?"):
                print("Nothing deleted.")
                return 1
            destroy(
                args.stage,
                session,
                project_dir=project_dir,
                runner=runner,
                profile=args.profile,
                delete_data=args.delete_data,
            )
    except (DeployError, ProfileNotFound, NoCredentialsError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
