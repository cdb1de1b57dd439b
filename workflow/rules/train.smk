rule prepare_dataset:
    output:
        summary="resources/datasets/{dataset}.json",
    log:
        "logs/prepare_dataset/{dataset}.log",
    params:
        dataset=get_dataset_params,
        code=get_code("data"),
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

    rule train_models_batched:
        input:
            dataset="resources/datasets/{dataset}.json",
        output:
            done=f"{GROUP_DIR}/batched/done.json",
        log:
            "logs/train_models_batched/{study}/{dataset}/{model}/{variant}.log",
        benchmark:
            "logs/train_models_batched/{study}/{dataset}/{model}/{variant}.benchmark.tsv"
        params:
            dataset=get_dataset_params,
            model=get_model_params,
            train=get_train_params,
            seeds=get_seeds,
            run_dir=get_batched_run_dir,
            code=get_code("train"),
        threads: 2
        resources:
            runtime=get_train_runtime,
            mem_mb=get_train_mem_mb,
            gpu=0,
        conda:
            "../../envs/torch.yaml"
        script:
            "../../scripts/train_models_batched.py"

    rule unpack_batched_seed:
        wildcard_constraints:
            study=TRAINED_STUDIES,
            variant=TRAINED_VARIANTS,
        input:
            done=f"{GROUP_DIR}/batched/done.json",
        output:
            final=f"{RUN_DIR}/model/final.pt",
            init=f"{RUN_DIR}/model/init.pt",
            metrics=f"{RUN_DIR}/training.parquet",
        log:
            f"logs/unpack_batched_seed/{RUN_KEYS}.log",
        threads: 1
        resources:
            runtime=5,
            mem_mb=1000,
        localrule: True
        conda:
            "../../envs/analysis.yaml"
        script:
            "../../scripts/unpack_batched_seed.py"

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
            f"logs/train_model/{RUN_KEYS}.log",
        benchmark:
            f"logs/train_model/{RUN_KEYS}.benchmark.tsv"
        params:
            dataset=get_dataset_params,
            model=get_model_params,
            train=get_train_params,
            code=get_code("train"),
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
        variant=EXTERNAL_VARIANT,
    output:
        final=f"{RUN_DIR}/model/final.pt",
        init=f"{RUN_DIR}/model/init.pt",
    log:
        f"logs/import_model/{RUN_KEYS}.log",
    params:
        spec=get_external_spec,
        download=config["download"],
        code=get_code("external"),
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
