"""Creates, in moto, the AWS resources template.yaml declares.

Only the properties that change behaviour are carried over (keys, indexes, redrive policies);
alarms, dashboards and IAM are not emulated and are listed as skipped.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from typing import Any

import boto3

from local_stack.template import Template, TemplateError

_TABLE_PROPERTIES = (
    "KeySchema",
    "AttributeDefinitions",
    "GlobalSecondaryIndexes",
    "LocalSecondaryIndexes",
    "BillingMode",
    "ProvisionedThroughput",
    "StreamSpecification",
)
_QUEUE_ATTRIBUTES = (
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
    "FifoQueue",
    "ContentBasedDeduplication",
    "RedrivePolicy",
    "RedriveAllowPolicy",
)


def _arn(template: Template, service: str, resource: str) -> str:
    region, account = template.pseudo["AWS::Region"], template.pseudo["AWS::AccountId"]
    return f"arn:aws:{service}:{region}:{account}:{resource}"


def _table(template: Template, logical: str, properties: dict[str, Any]) -> dict[str, str]:
    client = boto3.client("dynamodb")
    name = properties.get("TableName") or template.physical_name(logical)
    arguments = {key: properties[key] for key in _TABLE_PROPERTIES if key in properties}
    if "StreamSpecification" in arguments:  # CloudFormation's form has no StreamEnabled; the API's does
        arguments["StreamSpecification"] = {"StreamEnabled": True, **arguments["StreamSpecification"]}
    description = client.create_table(TableName=name, **arguments)["TableDescription"]
    ttl = properties.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        client.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
    attributes = {"Ref": name, "Arn": _arn(template, "dynamodb", f"table/{name}")}
    if "LatestStreamArn" in description:
        attributes["StreamArn"] = description["LatestStreamArn"]
    return attributes


def _queue(template: Template, logical: str, properties: dict[str, Any]) -> dict[str, str]:
    client = boto3.client("sqs")
    name = properties.get("QueueName") or template.physical_name(logical)
    attributes = {}
    for key in _QUEUE_ATTRIBUTES:
        if key in properties:
            value = properties[key]
            attributes[key] = (
                json.dumps(value)
                if isinstance(value, dict)
                else str(value).lower()
                if isinstance(value, bool)
                else str(value)
            )
    url = client.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    return {"Ref": url, "QueueUrl": url, "QueueName": name, "Arn": _arn(template, "sqs", name)}


def _bucket(template: Template, logical: str, properties: dict[str, Any]) -> dict[str, str]:
    name = properties.get("BucketName") or template.physical_name(logical).lower()
    boto3.client("s3").create_bucket(Bucket=name)
    return {"Ref": name, "Arn": f"arn:aws:s3:::{name}", "DomainName": f"{name}.s3.amazonaws.com"}


def _topic(template: Template, logical: str, properties: dict[str, Any]) -> dict[str, str]:
    name = properties.get("TopicName") or template.physical_name(logical)
    arn = boto3.client("sns").create_topic(Name=name)["TopicArn"]
    return {"Ref": arn, "TopicArn": arn, "TopicName": name}


def _configuration_set(template: Template, logical: str, properties: dict[str, Any]) -> dict[str, str]:
    name = properties.get("Name") or template.physical_name(logical)
    boto3.client("sesv2").create_configuration_set(ConfigurationSetName=name)
    return {"Ref": name}


def _email_identity(template: Template, logical: str, properties: dict[str, Any]) -> dict[str, str]:
    identity = properties["EmailIdentity"]
    boto3.client("sesv2").create_email_identity(EmailIdentity=identity)
    return {"Ref": identity}


def _secret(template: Template, logical: str, properties: dict[str, Any]) -> dict[str, str]:
    name = properties.get("Name") or template.physical_name(logical)
    generate = properties.get("GenerateSecretString", {})
    value = properties.get("SecretString") or secrets.token_urlsafe(int(generate.get("PasswordLength", 32)))
    arn = boto3.client("secretsmanager").create_secret(Name=name, SecretString=value)["ARN"]
    return {"Ref": arn, "Id": arn}


def _ssm_parameter(template: Template, logical: str, properties: dict[str, Any]) -> dict[str, str]:
    name = properties.get("Name") or template.physical_name(logical)
    boto3.client("ssm").put_parameter(Name=name, Value=properties["Value"], Type=properties["Type"])
    return {"Ref": name}


def _function(template: Template, logical: str, properties: dict[str, Any]) -> dict[str, str]:
    name = properties.get("FunctionName") or template.physical_name(logical)
    if "FunctionUrlConfig" in properties:
        # SAM's generated <Function>Url resource: the local stack serves it on 127.0.0.1.
        template.attributes[f"{logical}Url"] = {"FunctionUrl": template.function_url(logical)}
    return {"Ref": name, "Arn": _arn(template, "lambda", f"function:{name}")}


CREATORS: dict[str, Callable[[Template, str, dict[str, Any]], dict[str, str]]] = {
    "AWS::DynamoDB::Table": _table,
    "AWS::SQS::Queue": _queue,
    "AWS::S3::Bucket": _bucket,
    "AWS::SNS::Topic": _topic,
    "AWS::SES::ConfigurationSet": _configuration_set,
    "AWS::SES::EmailIdentity": _email_identity,
    "AWS::SecretsManager::Secret": _secret,
    "AWS::SSM::Parameter": _ssm_parameter,
    "AWS::Serverless::Function": _function,
}


def create_all(template: Template) -> list[str]:
    """Create every supported resource, in dependency order. Returns the logical ids skipped."""
    pending = {logical: spec for logical, spec in template.resources().items() if spec["Type"] in CREATORS}
    skipped = [logical for logical, spec in template.resources().items() if spec["Type"] not in CREATORS]
    while pending:
        progressed = False
        for logical, spec in list(pending.items()):
            try:
                properties = template.resolve(_creation_properties(spec))
            except TemplateError:
                continue  # refers to a resource not created yet
            template.attributes[logical] = CREATORS[spec["Type"]](template, logical, properties)
            del pending[logical]
            progressed = True
        if not progressed:
            raise TemplateError(f"cannot resolve the properties of {sorted(pending)}")
    return skipped


def _creation_properties(spec: dict[str, Any]) -> dict[str, Any]:
    """What creating the resource needs; a function's environment is resolved later, at invoke."""
    properties = dict(spec.get("Properties", {}))
    if spec["Type"] == "AWS::Serverless::Function":
        return {key: properties[key] for key in ("FunctionName", "FunctionUrlConfig") if key in properties}
    return properties
