"""Every AWS call a handler makes, as IAM authorises it, checked against the role template.yaml gives it.

moto answers every call whatever the role says, so a missing grant passes every local test and fails
every call on AWS. Here each call a handler makes (found through botocore's `before-parameter-build`
event on every client created in the process, attributed to the function whose invocation is running:
`AWS_LAMBDA_FUNCTION_NAME`) becomes the (IAM action, resource ARN) pairs AWS checks, and each pair is
evaluated against the function's execution role as the SAM translator (the one `sam validate` runs)
expands it, with `!GetAtt`/`!Sub`/`!Ref` resolved by the local stack's template resolver.

What AWS checks, per call (service authorisation reference and the notes beside each mapping):
- DynamoDB: the table ARN, or `table/T/index/I` for a Query or Scan on an index. BatchGetItem and
  BatchWriteItem are checked per table; TransactWriteItems per contained item as PutItem,
  UpdateItem, DeleteItem or ConditionCheckItem, TransactGetItems as GetItem.
- SESv2 SendEmail: the sending identity (the From address's domain identity; the stack verifies only
  domains) AND the configuration set. With `Content.Raw` the action checked is `ses:SendRawEmail`
  (django-anymail's SES docs, "Confusing IAM error messages": the v2 SendEmail operation with Raw
  content is refused as `ses:SendRawEmail`; nodemailer's SESv2 transport reports the same), with
  Simple or Template content `ses:SendEmail`.
- S3 GetObject and HeadObject: `s3:GetObject` on `bucket/key`.
- SQS: the queue ARN; SendMessageBatch is `sqs:SendMessage`, DeleteMessageBatch `sqs:DeleteMessage`,
  ChangeMessageVisibilityBatch `sqs:ChangeMessageVisibility`.
- Secrets Manager GetSecretValue: the secret ARN.
A call with no mapping here is reported as such: a new kind of call needs its authorisation written
down before the check can vouch for it.
"""

from __future__ import annotations

import contextlib
import copy
import email.utils
import os
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import botocore.session

from local_stack.template import Template

# Who the local stack runs as: moto's default account.
ACCOUNT = "123456789012"


@dataclass(frozen=True)
class Need:
    """One authorisation AWS evaluates for a call: `action` on `resource`."""

    action: str
    resource: str


@dataclass(frozen=True)
class Call:
    function: str
    api: str  # "dynamodb.BatchGetItem"
    needs: tuple[Need, ...]
    stack: int  # which stack's template resolves the function's role (id of the Template)


class Unmapped(Exception):
    """A call this module does not know how IAM authorises."""


# -- API call -> what IAM checks ---------------------------------------------------------------


def _dynamodb_table(name: str, region: str, account: str) -> str:
    return name if name.startswith("arn:") else f"arn:aws:dynamodb:{region}:{account}:table/{name}"


def _dynamodb(operation: str, params: dict[str, Any], region: str, account: str) -> list[Need]:
    def table(name: str, index: str | None = None) -> str:
        arn = _dynamodb_table(name, region, account)
        return f"{arn}/index/{index}" if index else arn

    if operation in ("BatchGetItem", "BatchWriteItem"):
        return [Need(f"dynamodb:{operation}", table(name)) for name in params["RequestItems"]]
    if operation in ("TransactWriteItems", "TransactGetItems"):
        actions = {
            "Put": "PutItem",
            "Update": "UpdateItem",
            "Delete": "DeleteItem",
            "ConditionCheck": "ConditionCheckItem",
            "Get": "GetItem",
        }
        needs = []
        for entry in params["TransactItems"]:
            ((kind, item),) = entry.items()
            needs.append(Need(f"dynamodb:{actions[kind]}", table(item["TableName"])))
        return needs
    if "TableName" in params:
        return [Need(f"dynamodb:{operation}", table(params["TableName"], params.get("IndexName")))]
    raise Unmapped(f"dynamodb.{operation}")


_SQS_BATCH = {
    "SendMessageBatch": "SendMessage",
    "DeleteMessageBatch": "DeleteMessage",
    "ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
}


def _sqs(operation: str, params: dict[str, Any], region: str, account: str) -> list[Need]:
    if "QueueUrl" in params:
        # https://sqs.REGION.amazonaws.com/ACCOUNT/NAME
        owner, name = params["QueueUrl"].rstrip("/").split("/")[-2:]
    elif "QueueName" in params:
        owner, name = params.get("QueueOwnerAWSAccountId", account), params["QueueName"]
    else:
        raise Unmapped(f"sqs.{operation}")
    return [Need(f"sqs:{_SQS_BATCH.get(operation, operation)}", f"arn:aws:sqs:{region}:{owner}:{name}")]


_S3_OBJECT_ACTIONS = {
    "GetObject": "GetObject",
    "HeadObject": "GetObject",
    "PutObject": "PutObject",
    "DeleteObject": "DeleteObject",
}


def _s3(operation: str, params: dict[str, Any], region: str, account: str) -> list[Need]:
    if operation in _S3_OBJECT_ACTIONS:
        return [
            Need(f"s3:{_S3_OBJECT_ACTIONS[operation]}", f"arn:aws:s3:::{params['Bucket']}/{params['Key']}")
        ]
    if operation in ("ListObjects", "ListObjectsV2"):
        return [Need("s3:ListBucket", f"arn:aws:s3:::{params['Bucket']}")]
    raise Unmapped(f"s3.{operation}")


def _sesv2(operation: str, params: dict[str, Any], region: str, account: str) -> list[Need]:
    if operation != "SendEmail":
        raise Unmapped(f"sesv2.{operation}")
    action = "ses:SendRawEmail" if "Raw" in params.get("Content", {}) else "ses:SendEmail"
    identity = params.get("FromEmailAddressIdentityArn")
    if not identity:
        address = email.utils.parseaddr(params["FromEmailAddress"])[1]
        identity = f"arn:aws:ses:{region}:{account}:identity/{address.rpartition('@')[2].lower()}"
    needs = [Need(action, identity)]
    if params.get("ConfigurationSetName"):
        needs.append(
            Need(action, f"arn:aws:ses:{region}:{account}:configuration-set/{params['ConfigurationSetName']}")
        )
    return needs


def _secretsmanager(operation: str, params: dict[str, Any], region: str, account: str) -> list[Need]:
    if operation not in ("GetSecretValue", "DescribeSecret"):
        raise Unmapped(f"secretsmanager.{operation}")
    secret = params["SecretId"]
    if not secret.startswith("arn:"):
        # A name: IAM sees the full ARN, which ends in a random six-character suffix.
        secret = f"arn:aws:secretsmanager:{region}:{account}:secret:{secret}-??????"
    return [Need(f"secretsmanager:{operation}", secret)]


def _ssm(operation: str, params: dict[str, Any], region: str, account: str) -> list[Need]:
    if operation != "GetParameter":
        raise Unmapped(f"ssm.{operation}")
    name = params["Name"]
    # IAM names a parameter without the path's leading slash: parameter/stack/name.
    return [Need("ssm:GetParameter", f"arn:aws:ssm:{region}:{account}:parameter/{name.lstrip('/')}")]


MAPPINGS: dict[str, Callable[[str, dict[str, Any], str, str], list[Need]]] = {
    "dynamodb": _dynamodb,
    "sqs": _sqs,
    "s3": _s3,
    "sesv2": _sesv2,
    "secretsmanager": _secretsmanager,
    "ssm": _ssm,
}


def needs_of(
    service: str, operation: str, params: dict[str, Any], region: str, account: str = ACCOUNT
) -> list[Need]:
    """What IAM evaluates for one API call. Raises Unmapped for a call not described here."""
    mapping = MAPPINGS.get(service)
    if mapping is None:
        raise Unmapped(f"{service}.{operation}")
    return mapping(operation, params, region, account)


# -- recording ---------------------------------------------------------------------------------


@dataclass
class Recording:
    calls: Counter[Call] = field(default_factory=Counter)
    unmapped: Counter[tuple[str, str]] = field(default_factory=Counter)  # (function, api)
    templates: dict[int, Template] = field(default_factory=dict)
    callers: set[str] = field(default_factory=set)  # functions that made a call


_LOCK = threading.Lock()
_ACTIVE: list[Recording] = []
_CURRENT_TEMPLATE: list[Template] = []
_INSTALLED = False


def _record(params: dict[str, Any], model: Any, **kwargs: Any) -> None:
    function = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
    if not _ACTIVE or not function or not _CURRENT_TEMPLATE:
        return
    template = _CURRENT_TEMPLATE[-1]
    service = model.service_model.service_name
    api = f"{service}.{model.name}"
    region = template.pseudo["AWS::Region"]
    account = template.pseudo["AWS::AccountId"]
    try:
        needs: tuple[Need, ...] | None = tuple(needs_of(service, model.name, params, region, account))
    except Unmapped:
        needs = None
    with _LOCK:
        for recording in _ACTIVE:
            recording.templates[id(template)] = template
            recording.callers.add(function)
            if needs is None:
                recording.unmapped[(function, api)] += 1
            else:
                recording.calls[Call(function, api, needs, id(template))] += 1


def install() -> None:
    """Hook every botocore client created from now on (powertools' parameter and idempotency
    utilities build their own sessions and clients: hooking the session class reaches them too)."""
    global _INSTALLED
    if _INSTALLED:
        return
    original = botocore.session.Session.create_client

    def create_client(self: botocore.session.Session, *args: Any, **kwargs: Any) -> Any:
        client = original(self, *args, **kwargs)
        client.meta.events.register("before-parameter-build", _record)
        return client

    botocore.session.Session.create_client = create_client  # type: ignore[method-assign]
    _INSTALLED = True


@contextlib.contextmanager
def stack_template(template: Template) -> Iterator[None]:
    """The local stack whose resources the calls made meanwhile refer to."""
    _CURRENT_TEMPLATE.append(template)
    try:
        yield
    finally:
        _CURRENT_TEMPLATE.remove(template)


@contextlib.contextmanager
def recording() -> Iterator[Recording]:
    """Records the handlers' calls made inside the block."""
    install()
    result = Recording()
    _ACTIVE.append(result)
    try:
        yield result
    finally:
        _ACTIVE.remove(result)


# -- policies ----------------------------------------------------------------------------------

# The AWS managed policies SAM attaches, as AWS publishes them. A role with another managed policy
# cannot be checked until its document is written down here.
MANAGED_POLICIES: dict[str, list[dict[str, Any]]] = {
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole": [
        {
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": "*",
        }
    ],
    "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess": [
        {
            "Effect": "Allow",
            "Action": [
                "xray:PutTraceSegments",
                "xray:PutTelemetryRecords",
                "xray:GetSamplingRules",
                "xray:GetSamplingTargets",
                "xray:GetSamplingStatisticSummaries",
            ],
            "Resource": "*",
        }
    ],
    # SAM attaches it for a DynamoDB stream event source (the Embed function).
    "arn:aws:iam::aws:policy/service-role/AWSLambdaDynamoDBExecutionRole": [
        {
            "Effect": "Allow",
            "Action": [
                "dynamodb:DescribeStream",
                "dynamodb:GetRecords",
                "dynamodb:GetShardIterator",
                "dynamodb:ListStreams",
                "logs:CreateLogGroup",
                "logs:CreateLogStream",
                "logs:PutLogEvents",
            ],
            "Resource": "*",
        }
    ],
    "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole": [
        {
            "Effect": "Allow",
            "Action": [
                "sqs:ReceiveMessage",
                "sqs:DeleteMessage",
                "sqs:GetQueueAttributes",
                "logs:CreateLogGroup",
                "logs:CreateLogStream",
                "logs:PutLogEvents",
            ],
            "Resource": "*",
        }
    ],
}


@dataclass(frozen=True)
class Statement:
    effect: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    source: str  # the policy it came from

    def matches(self, need: Need) -> bool:
        return any(_wildcard(pattern, need.action, fold=True) for pattern in self.actions) and any(
            _wildcard(pattern, need.resource, fold=False) for pattern in self.resources
        )


def _wildcard(pattern: str, value: str, *, fold: bool) -> bool:
    """IAM's matching: `*` any run of characters (`/` and `:` included), `?` one character.
    Action names are case-insensitive, resource ARNs are not."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.IGNORECASE if fold else 0) is not None


def _listed(value: Any) -> tuple[str, ...]:
    return tuple(value) if isinstance(value, list) else (value,)


def statements(document_statements: list[dict[str, Any]], source: str) -> list[Statement]:
    found = []
    for spec in document_statements:
        if "NotAction" in spec or "NotResource" in spec or "Condition" in spec:
            raise ValueError(f"{source}: NotAction, NotResource and Condition are not evaluated here")
        found.append(
            Statement(spec["Effect"], _listed(spec["Action"]), _listed(spec.get("Resource", "*")), source)
        )
    return found


def evaluate(policy: list[Statement], need: Need) -> bool:
    """IAM's decision for one request within one account: an explicit Deny wins, else some Allow."""
    if any(s.effect == "Deny" and s.matches(need) for s in policy):
        return False
    return any(s.effect == "Allow" and s.matches(need) for s in policy)


def translate(template: Template) -> dict[str, Any]:
    """template.yaml as CloudFormation receives it: SAM's transform, as `sam validate` runs it."""
    from samcli.lib.translate.sam_template_validator import SamTemplateValidator
    from samtranslator.yaml_helper import yaml_parse

    class _NoManagedPolicyNames:
        # The template names no managed policy by its short name: nothing to look up in IAM.
        def load(self) -> dict[str, str]:
            return {}

    validator = SamTemplateValidator(
        copy.deepcopy(template.body),  # the validator rewrites CodeUri in place
        _NoManagedPolicyNames(),
        region=template.pseudo["AWS::Region"],
        parameter_overrides=dict(template.parameters),
    )
    return yaml_parse(validator.get_translated_template_if_valid())


@dataclass
class Role:
    function: str
    statements: list[Statement]
    # Inline statements the template wrote for the function (not SAM's additions), for the
    # report of grants nothing used.
    written: list[Statement]


def roles(template: Template, translated: dict[str, Any] | None = None) -> dict[str, Role]:
    """Each function's execution role, its intrinsics resolved against the local stack."""
    translated = translated or translate(template)
    resources = translated["Resources"]
    found = {}
    for logical, spec in resources.items():
        if spec["Type"] != "AWS::Lambda::Function":
            continue
        role_ref = spec["Properties"]["Role"]
        role_id = role_ref["Fn::GetAtt"][0]
        role = resources[role_id]["Properties"]
        policy: list[Statement] = []
        written: list[Statement] = []
        for arn in role.get("ManagedPolicyArns", []):
            arn = template.resolve(arn)
            if arn not in MANAGED_POLICIES:
                raise ValueError(f"{logical}: managed policy {arn} is not described in local_stack/iam.py")
            policy += statements(MANAGED_POLICIES[arn], arn)
        for inline in role.get("Policies", []):
            name = inline["PolicyName"]
            resolved = template.resolve(inline["PolicyDocument"]["Statement"])
            found_statements = statements(resolved, name)
            policy += found_statements
            # SAM names the policies it adds for an event or a destination after them; the
            # function's own Policies become <Function>RolePolicy<N>.
            if name.startswith(f"{logical}RolePolicy"):
                written += found_statements
        found[logical] = Role(logical, policy, written)
    return found


# What a DynamoDB stream event source mapping does with the function's role (Lambda's docs list these
# four as the stream permissions an execution role needs).
_STREAM_ACTIONS = (
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
    "dynamodb:ListStreams",
)


def platform_needs(template: Template) -> list[tuple[str, Need, str]]:
    """What Lambda itself does with each function's execution role: an SQS event source mapping
    receives, deletes and reads the attributes of its queue's messages; an asynchronous invocation's
    on-failure destination is sent to as the function."""
    found = []
    for logical, spec in template.resources("AWS::Serverless::Function").items():
        properties = spec["Properties"]
        for name, event in properties.get("Events", {}).items():
            if event.get("Type") == "SQS":
                queue = template.resolve(event["Properties"]["Queue"])
                for action in ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"):
                    found.append((logical, Need(action, queue), f"event source mapping {name}"))
            if event.get("Type") == "DynamoDB":
                stream = template.resolve(event["Properties"]["Stream"])
                for action in _STREAM_ACTIONS:
                    found.append((logical, Need(action, stream), f"event source mapping {name}"))
                failure = event["Properties"].get("DestinationConfig", {}).get("OnFailure", {})
                if failure.get("Type") == "SQS":
                    queue = template.resolve(failure["Destination"])
                    found.append((logical, Need("sqs:SendMessage", queue), f"{name} on-failure destination"))
        destinations = properties.get("EventInvokeConfig", {}).get("DestinationConfig", {})
        for outcome, destination in destinations.items():
            if destination.get("Type") == "SQS":
                queue = template.resolve(destination["Destination"])
                found.append((logical, Need("sqs:SendMessage", queue), f"{outcome} destination"))
    return found


@dataclass
class Verdict:
    denied: list[str]
    unmapped: list[str]
    unused: list[str]
    checked: int

    def report(self) -> str:
        lines = [f"{self.checked} distinct (function, action, resource) checked"]
        lines += [f"DENIED {line}" for line in self.denied]
        lines += [f"UNMAPPED {line}" for line in self.unmapped]
        lines += [f"never exercised: {line}" for line in self.unused]
        return "\n".join(lines)


def check(recording: Recording) -> Verdict:
    """Every recorded call and every platform call against the role of its function."""
    denied: set[str] = set()
    checked: set[tuple[str, Need]] = set()
    # A grant, by where the template writes it, is unused if no stack of the recording used it.
    unused: dict[tuple[str, str, int, str, int], str] | None = None
    for template_id, template in recording.templates.items():
        function_roles = roles(template)
        requests = [
            (call.function, need, call.api)
            for call in recording.calls
            if call.stack == template_id
            for need in call.needs
        ] + platform_needs(template)
        used = {(function, need) for function, need, _ in requests}
        checked |= used
        for function, need, why in requests:
            if not evaluate(function_roles[function].statements, need):
                denied.add(f"{function} may not {need.action} on {need.resource} ({why})")
        here = {}
        for function, role in function_roles.items():
            for number, statement in enumerate(role.written):
                for action in statement.actions:
                    for place, resource in enumerate(statement.resources):
                        grant = Statement("Allow", (action,), (resource,), statement.source)
                        if not any(fn == function and grant.matches(need) for fn, need in used):
                            here[(function, statement.source, number, action, place)] = (
                                f"{function}: {action} on {resource}"
                            )
        unused = here if unused is None else {key: unused[key] for key in unused.keys() & here.keys()}
    unmapped = [
        f"{function} called {api} ({count}x)" for (function, api), count in sorted(recording.unmapped.items())
    ]
    return Verdict(sorted(denied), unmapped, sorted((unused or {}).values()), len(checked))
