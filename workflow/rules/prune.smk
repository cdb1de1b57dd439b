rule evaluate_pruning:
    input:
        final=f"{RUN_DIR}/model/final.pt",
        dataset="resources/datasets/{dataset}.json",
        fits=f"{RUN_DIR}/mp_fit.parquet",
    output:
        curve=f"{RUN_DIR}/prune.parquet",
        lowrank=f"{RUN_DIR}/lowrank.parquet",
    log:
        f"logs/evaluate_pruning/{RUN_PATH}.log",
    benchmark:
        f"logs/evaluate_pruning/{RUN_PATH}.benchmark.tsv"
    params:
        dataset=get_dataset_params,
        layer=get_prune_layer,
        reshape=get_config("analysis", "reshape"),
        prune=get_config("analysis", "prune"),
        code=get_code("evaluate_pruning"),
    threads: 1
    resources:
        runtime=30,
        mem_mb=get_train_mem_mb,
        gpu=0,
    conda:
        "../../envs/torch.yaml"
    script:
        "../../scripts/evaluate_pruning.py"


rule correlate:
    input:
        curve=f"{RUN_DIR}/avew_curve.parquet",
        prune=f"{RUN_DIR}/prune.parquet",
        fits=f"{RUN_DIR}/mp_fit.parquet",
    output:
        correlation=f"{RUN_DIR}/correlation.parquet",
    log:
        f"logs/correlate/{RUN_PATH}.log",
    params:
        layer=get_prune_layer,
        code=get_code("correlate"),
    threads: 1
    resources:
        runtime=5,
        mem_mb=1000,
    # Reads three small Parquet files: not worth a cluster job.
    localrule: True
    conda:
        "../../envs/analysis.yaml"
    script:
        "../../scripts/correlate.py"
