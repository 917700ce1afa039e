"""The peer of examples/greeting for `cargo xtask bench`: the same workflow and activity,
served by the Python SDK's own Lambda worker (temporalio.contrib.aws.lambda_worker) with its
shipped defaults, run by awslambdaric as AWS runs Python functions."""

import os
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.common import VersioningBehavior, WorkerDeploymentVersion
from temporalio.contrib.aws.lambda_worker import LambdaWorkerConfig, run_worker


@activity.defn(name="greet")
async def greet(name: str) -> str:
    return f"Hello, {name}!"


@workflow.defn(name="Greeting", versioning_behavior=VersioningBehavior.AUTO_UPGRADE)
class Greeting:
    @workflow.run
    async def run(self, name: str) -> str:
        return await workflow.execute_activity(
            greet, name, start_to_close_timeout=timedelta(seconds=10)
        )


def configure(config: LambdaWorkerConfig) -> None:
    config.worker_config["workflows"] = [Greeting]
    config.worker_config["activities"] = [greet]


lambda_handler = run_worker(
    WorkerDeploymentVersion(
        deployment_name=os.environ.get("LW_DEPLOYMENT_NAME", "my-app"),
        build_id=os.environ.get("LW_BUILD_ID", "build-1"),
    ),
    configure,
)
