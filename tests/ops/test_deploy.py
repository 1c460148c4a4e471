"""`make deploy` / `make destroy` offline: the CloudFormation template (cfn-lint, the
catalog's schema, a private bucket), and ops/deploy.py against moto with Chalice
replaced by a recording runner, on a copy of `.chalice/`."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import boto3
import pytest

import app as app_module
from chalicelib.catalog.layout import INTERNAL_FIELDS, table_definition
from ops import deploy as deploy_module
from ops.deploy import DeployError, StageResources, deploy, destroy, main, write_stage_resources
from ops.policy import functions, load_config, policy_for
from ops.table_steps import load_template

# moto creates the bucket, table, queue and topic from the template but skips the
# bucket policy and the alarms; they are checked statically below.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Tried to parse AWS.+(BucketPolicy|Alarm):UserWarning"
)

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "ops" / "template.yaml"
REGION = "eu-west-1"


# --- the template -------------------------------------------------------------------


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template(TEMPLATE.read_text())


def _cfn_lint(path: Path) -> subprocess.CompletedProcess[str]:
    binary = Path(sys.executable).with_name("cfn-lint")
    assert binary.exists(), "cfn-lint is in requirements-dev.txt"
    return subprocess.run([str(binary), str(path)], capture_output=True, text=True, timeout=120)


def test_template_passes_cfn_lint(tmp_path: Path) -> None:
    result = _cfn_lint(TEMPLATE)
    assert result.returncode == 0, result.stdout + result.stderr
    # ... and the lint does fail on a broken template.
    broken = tmp_path / "broken.yaml"
    broken.write_text(TEMPLATE.read_text().replace("PAY_PER_REQUEST", "FREE_OF_CHARGE"))
    assert _cfn_lint(broken).returncode != 0


def test_table_is_the_catalogs_schema_on_demand_with_pitr_and_ttl(template: dict) -> None:
    table = template["Resources"]["MetadataTable"]
    props = table["Properties"]
    expected = table_definition("any")

    def by_name(items: list[dict]) -> list[dict]:
        return sorted(items, key=lambda item: json.dumps(item, sort_keys=True))

    assert props["BillingMode"] == expected["BillingMode"] == "PAY_PER_REQUEST"
    assert props["KeySchema"] == expected["KeySchema"]
    assert by_name(props["AttributeDefinitions"]) == by_name(expected["AttributeDefinitions"])
    assert by_name(props["GlobalSecondaryIndexes"]) == by_name(expected["GlobalSecondaryIndexes"])
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    ttl = props["TimeToLiveSpecification"]
    assert ttl["Enabled"] is True and ttl["AttributeName"] == "expires_at"
    assert ttl["AttributeName"] in INTERNAL_FIELDS  # what the catalog writes on tombstones
    assert props["TableName"] == {"Ref": "TableName"}


def test_bucket_is_private_encrypted_tls_only_and_kept(template: dict) -> None:
    resources = template["Resources"]
    bucket = resources["ImagesBucket"]
    props = bucket["Properties"]
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    (rule,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
    assert props["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    assert props["VersioningConfiguration"]["Status"] == {
        "Fn::If": ["Versioned", "Enabled", "Suspended"]
    }
    # The web page's uploads: browsers may POST (the presigned policy authorizes), nothing else.
    (cors,) = props["CorsConfiguration"]["CorsRules"]
    assert cors["AllowedMethods"] == ["POST"]
    # The images survive the stack; `make destroy DELETE_DATA=1` deletes them on purpose.
    assert bucket["DeletionPolicy"] == bucket["UpdateReplacePolicy"] == "Retain"

    policy = resources["ImagesBucketPolicy"]["Properties"]
    assert policy["Bucket"] == {"Ref": "ImagesBucket"}
    deny_plain_http = [
        s
        for s in policy["PolicyDocument"]["Statement"]
        if s["Effect"] == "Deny"
        and s["Principal"] == "*"
        and s["Action"] == "s3:*"
        and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
    ]
    assert len(deny_plain_http) == 1
    assert deny_plain_http[0]["Resource"] == [
        {"Fn::GetAtt": ["ImagesBucket", "Arn"]},
        {"Fn::Sub": "${ImagesBucket.Arn}/*"},
    ]


def test_failed_events_are_kept_14_days_and_alarmed(template: dict) -> None:
    resources = template["Resources"]
    queue = resources["FailedEventsQueue"]["Properties"]
    assert queue["MessageRetentionPeriod"] == 14 * 24 * 3600
    assert queue["QueueName"] == {"Fn::Sub": "${AppName}-${Stage}-failed-events"}
    alarms = {k: v["Properties"] for k, v in resources.items() if v["Type"].endswith("Alarm")}
    depth = alarms["FailedEventsAlarm"]
    assert (depth["Namespace"], depth["MetricName"]) == (
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
    )
    assert depth["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": ["FailedEventsQueue", "QueueName"]}}
    ]
    # Every function nobody waits for has its errors watched, under Chalice's names.
    watched = set()
    for props in alarms.values():
        assert props["AlarmActions"] == [{"Ref": "AlarmTopic"}]
        assert props["Threshold"] == 1 and props["TreatMissingData"] == "notBreaching"
        stats = [m["MetricStat"]["Metric"] for m in props.get("Metrics", []) if "MetricStat" in m]
        for metric in [props, *stats]:
            if metric.get("MetricName") == "Errors":
                (dimension,) = metric["Dimensions"]
                watched.add(dimension["Value"]["Fn::Sub"])
    expected = {e.name for e in app_module.app.event_sources}
    expected |= {f.name for f in app_module.app.pure_lambda_functions}
    assert watched == {f"${{AppName}}-${{Stage}}-{name}" for name in expected}
    subscription = resources["AlarmTopic"]["Properties"]["Subscription"]
    assert subscription["Fn::If"][0] == "EmailAlarms"


def test_outputs_name_the_bucket_and_the_table(template: dict) -> None:
    outputs = template["Outputs"]
    assert outputs["TableName"]["Value"] == {"Ref": "MetadataTable"}
    assert outputs["BucketName"]["Value"] == {
        "Fn::If": ["CreateBucket", {"Ref": "ImagesBucket"}, {"Ref": "ExistingBucketName"}]
    }


# --- Lambda settings in .chalice/config.json ---------------------------------------------


def test_every_function_has_memory_and_timeout_and_they_fit_lambda_and_api_gateway() -> None:
    config = load_config(ROOT)
    chalice_app = app_module.app
    functions = {"api_handler"} | {e.name for e in chalice_app.event_sources}
    functions |= {f.name for f in chalice_app.pure_lambda_functions}
    settings = config["lambda_functions"]
    assert set(settings) == functions  # no setting for a function that does not exist
    for name, values in settings.items():
        assert 128 <= values["lambda_memory_size"] <= 10240, name
        assert 1 <= values["lambda_timeout"] <= 900, name
        reserved = values.get("reserved_concurrency")
        assert reserved is None or (isinstance(reserved, int) and reserved >= 0), name
    # API Gateway gives up after 29 s; a longer Lambda timeout only bills for nothing.
    assert settings["api_handler"]["lambda_timeout"] <= 29
    assert settings["reconcile"] == {"lambda_memory_size": 1024, "lambda_timeout": 900}
    assert config["lambda_architecture"] == "x86_64"


def test_s3_handlers_are_filtered_to_the_prefix() -> None:
    sources = {e.name: e for e in app_module.app.event_sources}
    assert sources["on_object_created"].events == ["s3:ObjectCreated:*"]
    assert sources["on_object_removed"].events == ["s3:ObjectRemoved:*"]
    assert {sources[n].prefix for n in ("on_object_created", "on_object_removed")} == {"uploads/"}


# --- ops/deploy.py against moto ----------------------------------------------------------


class Runner:
    """Records commands instead of running them; `chalice deploy` leaves its state file
    behind like the real one, so a second deploy is not a first one."""

    def __init__(self, project_dir: Path, status: int = 0) -> None:
        self.project_dir = project_dir
        self.status = status
        self.commands: list[list[str]] = []
        self.envs: list[dict[str, str]] = []

    def __call__(self, command: Sequence[str], env: Mapping[str, str]) -> int:
        self.commands.append(list(command))
        self.envs.append(dict(env))
        if self.status == 0 and "ops.chalice_cli" in command:
            stage = command[command.index("--stage") + 1]
            deployed = self.project_dir / ".chalice" / "deployed"
            deployed.mkdir(exist_ok=True)
            if "deploy" in command:
                state = _deployed_state(stage, env.get("AWS_DEFAULT_REGION", REGION))
            else:
                state = {"resources": []}
            (deployed / f"{stage}.json").write_text(json.dumps(state))
        return self.status


FUNCTIONS = ("api_handler", "on_object_created", "on_object_removed", "reconcile")


def _deployed_state(stage: str, region: str) -> dict[str, Any]:
    """What `chalice deploy` creates (the functions and the REST API, in moto) and records
    in `.chalice/deployed/<stage>.json` (the parts we read)."""
    iam = boto3.client("iam", region_name=region)
    trust = {"Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                            "Action": "sts:AssumeRole"}]}  # fmt: skip
    try:
        role = iam.create_role(RoleName=f"role-{stage}", AssumeRolePolicyDocument=json.dumps(trust))
    except iam.exceptions.EntityAlreadyExistsException:
        role = iam.get_role(RoleName=f"role-{stage}")
    lambda_client = boto3.client("lambda", region_name=region)
    resources = []
    for name in FUNCTIONS:
        function = f"image-metadata-{stage}" + ("" if name == "api_handler" else f"-{name}")
        try:
            arn = lambda_client.get_function(FunctionName=function)["Configuration"]["FunctionArn"]
        except lambda_client.exceptions.ResourceNotFoundException:
            arn = lambda_client.create_function(
                FunctionName=function,
                Runtime="python3.12",
                Role=role["Role"]["Arn"],
                Handler="app.app",
                Code={"ZipFile": _empty_zip()},
            )["FunctionArn"]
        resources.append({"name": name, "resource_type": "lambda_function", "lambda_arn": arn})
    apigateway = boto3.client("apigateway", region_name=region)
    api = apigateway.create_rest_api(name="image-metadata")
    root = apigateway.get_resources(restApiId=api["id"])["items"][0]["id"]
    apigateway.put_method(
        restApiId=api["id"], resourceId=root, httpMethod="GET", authorizationType="NONE"
    )
    apigateway.put_integration(restApiId=api["id"], resourceId=root, httpMethod="GET", type="MOCK")
    apigateway.create_deployment(restApiId=api["id"], stageName="api")
    resources.append({"name": "rest_api", "resource_type": "rest_api", "rest_api_id": api["id"]})
    resources.append({"name": "api_handler_role", "resource_type": "iam_role", "role_arn": "x"})
    return {"schema_version": "2.0", "resources": resources}


def _empty_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "")
    return buffer.getvalue()


def _log_groups(session: Any) -> dict[str, int | None]:
    groups = session.client("logs").describe_log_groups()["logGroups"]
    return {g["logGroupName"]: g.get("retentionInDays") for g in groups}


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Path]:
    """A copy of `.chalice/` to deploy from; the real one must stay untouched."""
    real = {p: p.read_bytes() for p in (ROOT / ".chalice").glob("*.json")}
    shutil.copytree(ROOT / ".chalice", tmp_path / ".chalice", ignore=_only_json)
    yield tmp_path
    assert {p: p.read_bytes() for p in (ROOT / ".chalice").glob("*.json")} == real


def _only_json(directory: str, names: list[str]) -> list[str]:
    return [n for n in names if not n.endswith(".json")]


@pytest.fixture
def session(aws: None) -> Any:
    return boto3.session.Session(region_name=REGION)


def _config(project: Path) -> dict[str, Any]:
    return json.loads((project / ".chalice" / "config.json").read_text())


def _chalice(project: Path, command: str, stage: str, *profile: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "ops.chalice_cli",
        "--project-dir",
        str(project),
        command,
        "--stage",
        stage,
        *profile,
    ]


def test_first_deploy_creates_resources_writes_names_runs_chalice_and_hints_reconcile(
    session: Any, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _config(project)
    runner = Runner(project)

    resources = deploy("dev", session, project_dir=project, runner=runner, ask=None)

    s3, dynamodb = session.client("s3"), session.client("dynamodb")
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == [resources.bucket]
    assert resources.bucket.startswith("image-metadata-dev-")
    assert resources.table == "image-metadata-dev" and resources.bucket_created_by_stack
    table = dynamodb.describe_table(TableName=resources.table)["Table"]
    assert [i["IndexName"] for i in table["GlobalSecondaryIndexes"]] == [
        i["IndexName"] for i in table_definition(table["TableName"])["GlobalSecondaryIndexes"]
    ]
    tags = s3.get_bucket_tagging(Bucket=resources.bucket)["TagSet"]
    assert {"Key": "stage", "Value": "dev"} in tags

    after = _config(project)
    env = after["stages"]["dev"]["environment_variables"]
    assert env == {
        **before["stages"]["dev"]["environment_variables"],
        "IMAGES_BUCKET": resources.bucket,
        "IMAGES_TABLE": resources.table,
    }
    # Nothing else in the config changed.
    after["stages"]["dev"]["environment_variables"] = before["stages"]["dev"][
        "environment_variables"
    ]
    assert after == before
    for function in functions(after):
        path = project / ".chalice" / f"policy-dev-{function}.json"
        policy = json.loads(path.read_text())
        assert policy == policy_for(_config(project), "dev", function)
        assert f"arn:aws:s3:::{resources.bucket}/uploads/*" in json.dumps(policy)

    assert runner.commands == [_chalice(project, "deploy", "dev")]
    assert runner.envs[0]["AWS_DEFAULT_REGION"] == REGION
    assert "make reconcile STAGE=dev" in capsys.readouterr().out
    # Lambda would create these without retention, keeping every log line forever.
    assert _log_groups(session) == {
        "/aws/lambda/image-metadata-dev": 30,
        "/aws/lambda/image-metadata-dev-on_object_created": 30,
        "/aws/lambda/image-metadata-dev-on_object_removed": 30,
        "/aws/lambda/image-metadata-dev-reconcile": 30,
    }


def test_deploy_keeps_failed_events_and_throttles_the_api(session: Any, project: Path) -> None:
    resources = deploy("dev", session, project_dir=project, runner=Runner(project))

    sqs = session.client("sqs")
    url = sqs.get_queue_url(QueueName="image-metadata-dev-failed-events")["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["QueueArn"] == resources.failed_events_queue
    assert attributes["MessageRetentionPeriod"] == str(14 * 24 * 3600)
    lambda_client = session.client("lambda")
    for name in ("on_object_created", "on_object_removed"):
        config = lambda_client.get_function_event_invoke_config(
            FunctionName=f"image-metadata-dev-{name}"
        )
        assert config["DestinationConfig"]["OnFailure"]["Destination"] == attributes["QueueArn"]
        assert config["MaximumRetryAttempts"] == 2
    for name in ("api_handler", "reconcile"):  # no S3 events, nothing to keep
        function = "image-metadata-dev" + ("" if name == "api_handler" else f"-{name}")
        with pytest.raises(lambda_client.exceptions.ResourceNotFoundException):
            lambda_client.get_function_event_invoke_config(FunctionName=function)
    apigateway = session.client("apigateway")
    (api,) = apigateway.get_rest_apis()["items"]
    stage = apigateway.get_stage(restApiId=api["id"], stageName="api")
    settings = stage["methodSettings"]["*/*"]
    assert (settings["throttlingRateLimit"], settings["throttlingBurstLimit"]) == (50.0, 100)
    topics = [t["TopicArn"] for t in session.client("sns").list_topics()["Topics"]]
    assert [t.rsplit(":", 1)[1] for t in topics] == ["image-metadata-dev-alarms"]


def test_alarm_email_and_throttling_come_from_the_stage(session: Any, project: Path) -> None:
    path = project / ".chalice" / "config.json"
    config = json.loads(path.read_text())
    config["stages"]["prod"]["environment_variables"].update(
        IMAGES_THROTTLE_RATE="5", IMAGES_THROTTLE_BURST="10"
    )
    path.write_text(json.dumps(config))

    deploy("prod", session, project_dir=project, runner=Runner(project), alarm_email="me@x.io")

    sns = session.client("sns")
    (topic,) = sns.list_topics()["Topics"]
    subscriptions = sns.list_subscriptions_by_topic(TopicArn=topic["TopicArn"])["Subscriptions"]
    assert [(s["Protocol"], s["Endpoint"]) for s in subscriptions] == [("email", "me@x.io")]
    apigateway = session.client("apigateway")
    (api,) = apigateway.get_rest_apis()["items"]
    settings = apigateway.get_stage(restApiId=api["id"], stageName="api")["methodSettings"]
    assert (settings["*/*"]["throttlingRateLimit"], settings["*/*"]["throttlingBurstLimit"]) == (
        5.0,
        10,
    )


def test_a_wrong_throttle_setting_stops_the_deploy_early(session: Any, project: Path) -> None:
    path = project / ".chalice" / "config.json"
    config = json.loads(path.read_text())
    config["stages"]["dev"]["environment_variables"]["IMAGES_THROTTLE_RATE"] = "fast"
    path.write_text(json.dumps(config))
    with pytest.raises(DeployError, match="IMAGES_THROTTLE_RATE"):
        deploy("dev", session, project_dir=project, runner=Runner(project))
    assert session.client("cloudformation").list_stacks()["StackSummaries"] == []


def test_deploy_again_updates_the_same_stack_and_offers_no_reconcile(
    session: Any, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    runner = Runner(project)
    first = deploy("dev", session, project_dir=project, runner=runner)
    capsys.readouterr()
    asked: list[str] = []

    second = deploy(
        "dev", session, project_dir=project, runner=runner, ask=lambda q: asked.append(q) or True
    )

    assert second == first
    assert asked == [] and "reconcile" not in capsys.readouterr().out
    assert runner.commands == [_chalice(project, "deploy", "dev")] * 2
    assert len(session.client("s3").list_buckets()["Buckets"]) == 1


@pytest.mark.parametrize("answer", [True, False])
def test_first_deploy_on_a_terminal_asks_before_running_reconcile(
    session: Any, project: Path, answer: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    runner = Runner(project)
    questions: list[str] = []

    def ask(question: str) -> bool:
        questions.append(question)
        return answer

    deploy("prod", session, project_dir=project, runner=runner, ask=ask)

    assert len(questions) == 1 and "reconcile" in questions[0]
    expected = [_chalice(project, "deploy", "prod")]
    if answer:
        expected.append(["make", "reconcile", "STAGE=prod"])
    assert runner.commands == expected
    assert ("make reconcile STAGE=prod" in capsys.readouterr().out) is not answer


def test_profile_and_region_reach_cloudformation_and_chalice(
    aws: None, project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A named profile whose region is not the environment's.
    (tmp_path / "config").write_text("[profile deployer]\nregion = ap-southeast-2\n")
    (tmp_path / "credentials").write_text(
        "[deployer]\naws_access_key_id = testing\naws_secret_access_key = testing\n"
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_PROFILE", "deployer")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.setattr(deploy_module.sys, "stdin", io.StringIO())  # not a terminal, even with -s
    runner = Runner(project)

    assert main(["deploy", "--stage", "dev"], project_dir=project, runner=runner) == 0

    assert runner.commands == [_chalice(project, "deploy", "dev", "--profile", "deployer")]
    assert runner.envs[0]["AWS_DEFAULT_REGION"] == "ap-southeast-2"
    assert runner.envs[0]["AWS_PROFILE"] == "deployer"
    cloudformation = boto3.client("cloudformation", region_name="ap-southeast-2")
    assert cloudformation.describe_stacks(StackName="image-metadata-dev")["Stacks"]

    runner.commands.clear()
    # On a terminal, destroy asks first.
    refuse = main(["destroy", "--stage", "dev"], project_dir=project, runner=runner, ask=no)
    assert refuse == 1 and runner.commands == []
    assert main(["destroy", "--stage", "dev"], project_dir=project, runner=runner) == 0
    assert runner.commands == [_chalice(project, "delete", "dev", "--profile", "deployer")]


def no(question: str) -> bool:
    return False


def test_existing_bucket_is_used_and_never_deleted(session: Any, project: Path) -> None:
    s3 = session.client("s3")
    s3.create_bucket(Bucket="my-photos", CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_object(Bucket="my-photos", Key="uploads/old.jpg", Body=b"jpeg")
    runner = Runner(project)

    resources = deploy(
        "dev", session, project_dir=project, runner=runner, existing_bucket="my-photos"
    )
    assert (resources.bucket, resources.table) == ("my-photos", "image-metadata-dev")
    assert not resources.bucket_created_by_stack
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["my-photos"]
    assert _config(project)["stages"]["dev"]["environment_variables"]["IMAGES_BUCKET"] == (
        "my-photos"
    )
    # Later deploys keep the bucket without being told again.
    assert deploy("dev", session, project_dir=project, runner=runner).bucket == "my-photos"

    destroy("dev", session, project_dir=project, runner=runner, delete_data=True)
    assert s3.get_object(Bucket="my-photos", Key="uploads/old.jpg")["Body"].read() == b"jpeg"


def test_destroy_keeps_the_images_unless_asked(
    session: Any, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    runner = Runner(project)
    bucket = deploy("dev", session, project_dir=project, runner=runner).bucket
    s3, dynamodb = session.client("s3"), session.client("dynamodb")
    s3.put_object(Bucket=bucket, Key="uploads/a.jpg", Body=b"a")

    destroy("dev", session, project_dir=project, runner=runner)

    assert runner.commands[-1] == _chalice(project, "delete", "dev")
    assert _log_groups(session) == {}
    assert dynamodb.list_tables()["TableNames"] == []
    assert (
        session.client("cloudformation").list_stacks(StackStatusFilter=["CREATE_COMPLETE"])[
            "StackSummaries"
        ]
        == []
    )
    assert s3.get_object(Bucket=bucket, Key="uploads/a.jpg")["Body"].read() == b"a"
    assert f"make deploy STAGE=dev BUCKET={bucket}" in capsys.readouterr().out

    # Asked later, with the stack gone: the bucket is found from the config and its tags.
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=bucket, Key="uploads/a.jpg", Body=b"a2")
    s3.delete_object(Bucket=bucket, Key="uploads/a.jpg")
    destroy("dev", session, project_dir=project, runner=runner, delete_data=True)
    assert s3.list_buckets()["Buckets"] == []


def test_deploy_after_destroy_reuses_the_kept_bucket_and_offers_reconcile_again(
    session: Any, project: Path
) -> None:
    runner = Runner(project)
    bucket = deploy("dev", session, project_dir=project, runner=runner).bucket
    destroy("dev", session, project_dir=project, runner=runner)
    questions: list[str] = []

    again = deploy(
        "dev",
        session,
        project_dir=project,
        runner=runner,
        ask=lambda q: questions.append(q) or False,
        existing_bucket=bucket,
    )

    assert again.bucket == bucket and not again.bucket_created_by_stack
    assert len(questions) == 1  # the images in the kept bucket need indexing
    assert [b["Name"] for b in session.client("s3").list_buckets()["Buckets"]] == [bucket]


def test_failed_chalice_deploy_is_an_error(session: Any, project: Path) -> None:
    with pytest.raises(DeployError, match="chalice deploy failed"):
        deploy("dev", session, project_dir=project, runner=Runner(project, status=2))
    # The resources and their names stay, so the next `make deploy` just retries Chalice.
    env = _config(project)["stages"]["dev"]["environment_variables"]
    assert env["IMAGES_TABLE"] == "image-metadata-dev"


@pytest.mark.parametrize("stage", ["local", "staging"])
def test_refuses_the_local_stage_and_unknown_stages(
    session: Any, project: Path, stage: str
) -> None:
    with pytest.raises(DeployError):
        deploy(stage, session, project_dir=project, runner=Runner(project))
    assert session.client("cloudformation").list_stacks()["StackSummaries"] == []


def test_a_region_is_required(aws: None, project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(project / "no-such-config"))
    with pytest.raises(DeployError, match="region"):
        deploy("dev", boto3.session.Session(), project_dir=project, runner=Runner(project))


def test_write_stage_resources_touches_only_that_stage(project: Path) -> None:
    before = _config(project)
    write_stage_resources(project, "prod", StageResources("b-1", "t-1", True))
    after = _config(project)
    assert after["stages"]["prod"]["environment_variables"] == {
        **before["stages"]["prod"]["environment_variables"],
        "IMAGES_BUCKET": "b-1",
        "IMAGES_TABLE": "t-1",
    }
    assert after["stages"]["dev"] == before["stages"]["dev"]
    for function in functions(after):
        assert "b-1" in (project / ".chalice" / f"policy-prod-{function}.json").read_text()
        assert "b-1" not in (project / ".chalice" / f"policy-dev-{function}.json").read_text()


def test_the_chalice_command_runs_from_the_repository(monkeypatch: pytest.MonkeyPatch) -> None:
    # `python -m ops.chalice_cli` must find the `ops` package: the runner's cwd.
    seen: dict[str, Any] = {}
    monkeypatch.setattr(
        deploy_module.subprocess, "call", lambda argv, env, cwd: seen.update(cwd=cwd) or 0
    )
    assert deploy_module.run_command(["true"], {}) == 0
    assert seen["cwd"] == ROOT and (ROOT / "ops" / "chalice_cli.py").exists()


# --- reconcile jobs ---------------------------------------------------------------------


def test_reconcile_work_queue_dead_letters_after_the_workers_last_attempt(template: dict) -> None:
    from chalicelib.reconcile_jobs import MAX_RECEIVES, dead_letter_queue_name

    resources = template["Resources"]
    work = resources["ReconcileWorkQueue"]["Properties"]
    dead = resources["ReconcileDeadLetterQueue"]["Properties"]
    config = load_config(ROOT)
    for stage in ("dev", "prod"):
        named = config["stages"][stage]["environment_variables"]["IMAGES_RECONCILE_QUEUE"]
        subs = {"${AppName}": config["app_name"], "${Stage}": stage}
        built = work["QueueName"]["Fn::Sub"]
        for old, new in subs.items():
            built = built.replace(old, new)
        assert built == named  # the worker's event source and policy name the queue created
        dead_built = dead["QueueName"]["Fn::Sub"]
        for old, new in subs.items():
            dead_built = dead_built.replace(old, new)
        assert dead_built == dead_letter_queue_name(named)
    # The worker reports a piece dead on its last attempt: the same count as SQS's.
    assert work["RedrivePolicy"]["maxReceiveCount"] == MAX_RECEIVES
    assert work["RedrivePolicy"]["deadLetterTargetArn"] == {
        "Fn::GetAtt": ["ReconcileDeadLetterQueue", "Arn"]
    }
    timeout = config["lambda_functions"]["reconcile_worker"]["lambda_timeout"]
    assert work["VisibilityTimeout"] >= 6 * timeout  # Lambda's advice for SQS sources
    alarm = resources["ReconcileDeadLetterAlarm"]["Properties"]
    assert alarm["Dimensions"][0]["Value"] == {
        "Fn::GetAtt": ["ReconcileDeadLetterQueue", "QueueName"]
    }


def test_the_pixel_queue_redrives_to_its_dead_letter_queue(template: dict) -> None:
    resources = template["Resources"]
    queue = resources["PixelsQueue"]["Properties"]
    config = load_config(ROOT)
    assert queue["QueueName"] == {"Fn::Sub": "${AppName}-${Stage}-pixels"}
    # AWS: at least 6 x the function's timeout, or a slow image is handled twice at once.
    assert (
        queue["VisibilityTimeout"]
        >= 6 * config["lambda_functions"]["pixels_stage"]["lambda_timeout"]
    )
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {
        "Fn::GetAtt": ["PixelsDeadLetterQueue", "Arn"]
    }
    dead = resources["PixelsDeadLetterQueue"]["Properties"]
    assert dead["MessageRetentionPeriod"] == 14 * 24 * 3600
    # Its depth alarms: a message there is an image without previews until someone acts.
    alarm = resources["PixelsDeadLetterAlarm"]["Properties"]
    assert alarm["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": ["PixelsDeadLetterQueue", "QueueName"]}}
    ]
    assert (alarm["MetricName"], alarm["Threshold"]) == ("ApproximateNumberOfMessagesVisible", 1)
    assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]
    # The stages name the stack's queue (`make deploy` creates it before `chalice deploy`).
    for stage in ("dev", "prod"):
        name = config["stages"][stage]["environment_variables"]["IMAGES_PIXELS_QUEUE"]
        assert name == f"{config['app_name']}-{stage}-pixels"
