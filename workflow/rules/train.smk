rule prepare_dataset:
    input:
        get_dataset_files,
    output:
        summary="resources/datasets/{dataset}.json",
    log:
        "logs/prepare_dataset/{dataset}.log",
    params:
        dataset=get_dataset_params,
        code=get_code("prepare_dataset"),
    threads: 1
    resources:
        runtime=30,
        mem_mb=4000,
    # Runs where Snakemake runs: on a cluster that is the login node, which can download.
    localrule: True
    conda:
        "../../envs/torch.yaml"
    script:
        "../../scripts/prepare_dataset.py"


if config["training"]["batched"]:
    # One rule per distinct seed list: its outputs are every seed's checkpoints and metrics, so each
    # file is written once, by the job that trains it, and Snakemake knows all of them.
    for rule_name, seeds, studies in BATCHED_TRAINING_RULES:

        rule:
            name:
                rule_name
            wildcard_constraints:
                study=alternatives(studies),
                variant=TRAINED_VARIANTS,
            input:
                dataset="resources/datasets/{dataset}.json",
            output:
                final=[f"results/{GROUP_PATH}/seed{seed}/model/final.pt" for seed in seeds],
                init=[f"results/{GROUP_PATH}/seed{seed}/model/init.pt" for seed in seeds],
                metrics=[f"results/{GROUP_PATH}/seed{seed}/training.parquet" for seed in seeds],
            log:
                f"logs/train_models_batched/{GROUP_PATH}.log",
            benchmark:
                f"logs/train_models_batched/{GROUP_PATH}.benchmark.tsv"
            params:
                dataset=get_dataset_params,
                model=get_model_params,
                train=get_train_params,
                seeds=list(seeds),
                snapshot_epochs=get_snapshot_epochs,
                code=get_code("train_models_batched"),
            threads: 2
            resources:
                runtime=get_train_runtime,
                mem_mb=get_train_mem_mb,
                gpu=0,
            conda:
                "../../envs/torch.yaml"
            script:
                "../../scripts/train_models_batched.py"

else:

    rule train_model:
        wildcard_constraints:
            study=TRAINED_STUDIES,
            variant=TRAINED_VARIANTS,
        input:
            dataset="resources/datasets/{dataset}.json",
        output:
            final=f"{RUN_DIR}/model/final.pt",
            init=f"{RUN_DIR}/model/init.pt",
            metrics=f"{RUN_DIR}/training.parquet",
        log:
            f"logs/train_model/{RUN_PATH}.log",
        benchmark:
            f"logs/train_model/{RUN_PATH}.benchmark.tsv"
        params:
            dataset=get_dataset_params,
            model=get_model_params,
            train=get_train_params,
            snapshot_epochs=get_snapshot_epochs,
            code=get_code("train_model"),
        threads: 1
        resources:
            runtime=get_train_runtime,
            mem_mb=get_train_mem_mb,
            gpu=0,
        conda:
            "../../envs/torch.yaml"
        script:
            "../../scripts/train_model.py"


rule import_model:
    wildcard_constraints:
        variant=GIVEN,
    output:
        final=f"{RUN_DIR}/model/final.pt",
        init=f"{RUN_DIR}/model/init.pt",
    log:
        f"logs/import_model/{RUN_PATH}.log",
    params:
        spec=get_external_spec,
        download=config["download"],
        code=get_code("import_model"),
    threads: 1
    resources:
        runtime=30,
        mem_mb=8000,
    # Downloads happen where Snakemake runs (on a cluster: the login node).
    localrule: True
    conda:
        "../../envs/torch.yaml"
    script:
        "../../scripts/import_model.py"
