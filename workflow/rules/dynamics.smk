# Spectra through training and between models: snapshot epochs of trained runs, checkpoint series of
# external models (one job per epoch or checkpoint), and the difference of an external model from its base.


rule take_snapshot:
    # Training keeps the listed epochs' weights in model/snapshots/ (not an output: the list is no
    # compared param of training, so changing it never retrains). Here one becomes an output (a hard
    # link); an epoch training did not keep is replayed from init.pt.
    input:
        dataset="resources/datasets/{dataset}.json",
        final=f"{RUN_DIR}/model/final.pt",
        init=f"{RUN_DIR}/model/init.pt",
    output:
        snapshot=f"{RUN_DIR}/model/epoch{{epoch}}.pt",
    log:
        f"logs/take_snapshot/{RUN_PATH}/epoch{{epoch}}.log",
    params:
        dataset=get_dataset_params,
        model=get_model_params,
        recipe=get_snapshot_recipe,
        code=get_code("take_snapshot"),
    threads: 1
    resources:
        runtime=get_train_runtime,
        mem_mb=get_train_mem_mb,
    conda:
        "../../envs/torch.yaml"
    script:
        "../../scripts/take_snapshot.py"


rule record_snapshot_settings:
    # What the group's snapshot analyses depend on besides the weights. It depends on no training
    # output, so it is what reruns them (analyze_snapshot's snapshot is `ancient`: extending training
    # keeps the snapshots analysed; stages/record_snapshot_settings.py says why).
    input:
        dataset="resources/datasets/{dataset}.json",
    output:
        settings=f"results/{GROUP_PATH}/snapshot_settings.parquet",
    log:
        f"logs/record_snapshot_settings/{GROUP_PATH}.log",
    params:
        analysis=get_snapshot_analysis_settings,
        weights=get_snapshot_weights_identity,
        code=get_code("record_snapshot_settings"),
    threads: 1
    resources:
        runtime=5,
        mem_mb=1000,
    localrule: True
    conda:
        "../../envs/analysis.yaml"
    script:
        "../../scripts/record_snapshot_settings.py"


rule analyze_snapshot:
    input:
        snapshot=ancient(f"{RUN_DIR}/model/epoch{{epoch}}.pt"),
        settings=f"results/{GROUP_PATH}/snapshot_settings.parquet",
    output:
        table=f"{RUN_DIR}/snapshots/epoch{{epoch}}.parquet",
        directions=f"{RUN_DIR}/snapshots/epoch{{epoch}}_directions.parquet",
    log:
        f"logs/analyze_snapshot/{RUN_PATH}/epoch{{epoch}}.log",
    benchmark:
        f"logs/analyze_snapshot/{RUN_PATH}/epoch{{epoch}}.benchmark.tsv"
    params:
        device=get_config("analysis", "device"),
        code=get_code("analyze_snapshot"),
    threads: 1
    resources:
        runtime=30,
        mem_mb=get_analysis_mem_mb,
    group:
        "analysis"
    conda:
        "../../envs/torch.yaml"
    script:
        "../../scripts/analyze_snapshot.py"


rule analyze_checkpoint:
    # One job per checkpoint of an external series (`weights:` a list or a glob, with `steps:`).
    wildcard_constraints:
        variant=SERIES,
    input:
        weights=get_series_checkpoint_files,
    output:
        table=f"{RUN_DIR}/snapshots/step{{step}}.parquet",
        directions=f"{RUN_DIR}/snapshots/step{{step}}_directions.parquet",
    log:
        f"logs/analyze_checkpoint/{RUN_PATH}/step{{step}}.log",
    benchmark:
        f"logs/analyze_checkpoint/{RUN_PATH}/step{{step}}.benchmark.tsv"
    params:
        checkpoint=get_series_checkpoint,
        selection=get_external_selection,
        methods=get_config("analysis", "methods"),
        alpha=get_config("analysis", "bema", "alpha"),
        a=get_config("analysis", "gb", "a"),
        beta=get_config("analysis", "beta"),
        heavy_tail=get_config("analysis", "heavy_tail"),
        reshape=get_config("analysis", "reshape"),
        device=get_config("analysis", "device"),
        code=get_code("analyze_checkpoint"),
    threads: 1
    resources:
        runtime=60,
        mem_mb=get_analysis_mem_mb,
    conda:
        "../../envs/torch.yaml"
    script:
        "../../scripts/analyze_checkpoint.py"


rule gather_dynamics:
    input:
        tables=get_dynamics_files("tables"),
        directions=get_dynamics_files("directions"),
    output:
        dynamics=f"{RUN_DIR}/dynamics.parquet",
    log:
        f"logs/gather_dynamics/{RUN_PATH}.log",
    params:
        axis=get_dynamics_files("axis"),
        code=get_code("gather_dynamics"),
    threads: 1
    resources:
        runtime=10,
        mem_mb=4000,
    localrule: True
    conda:
        "../../envs/analysis.yaml"
    script:
        "../../scripts/gather_dynamics.py"


rule aggregate_dynamics:
    input:
        dynamics=get_study_table_inputs("dynamics"),
    output:
        parquet=report(
            "results/tables/{study}/dynamics.parquet",
            caption="../report/dynamics_table.rst",
            category="Dynamics",
            labels={"study": "{study}", "table": "dynamics"},
        ),
        csv="results/tables/{study}/dynamics.csv",
        markdown="results/tables/{study}/dynamics.md",
    log:
        "logs/aggregate_dynamics/{study}.log",
    params:
        code=get_code("aggregate_dynamics"),
    threads: 1
    resources:
        runtime=10,
        mem_mb=4000,
    localrule: True
    conda:
        "../../envs/analysis.yaml"
    script:
        "../../scripts/aggregate_dynamics.py"


rule plot_dynamics:
    input:
        table="results/tables/{study}/dynamics.parquet",
    output:
        png=report(
            f"results/figures/{GROUP_PATH}/dynamics.png",
            caption="../report/dynamics.rst",
            category="Dynamics",
            subcategory="{model}",
            labels={"study": "{study}", "dataset": "{dataset}", "variant": "{variant}"},
        ),
        pdf=f"results/figures/{GROUP_PATH}/dynamics.pdf",
    log:
        f"logs/plot_dynamics/{GROUP_PATH}.log",
    params:
        code=get_code("plot_dynamics"),
    threads: 1
    resources:
        runtime=10,
        mem_mb=2000,
    localrule: True
    conda:
        "../../envs/analysis.yaml"
    script:
        "../../scripts/plot_dynamics.py"


rule diff_weights:
    # An external model with `base:`: the spectrum of its difference from the base, layer by layer.
    wildcard_constraints:
        variant=WEIGHTS,
    input:
        weights=get_diff_files,
    output:
        diff=f"{RUN_DIR}/diff.parquet",
    log:
        f"logs/diff_weights/{RUN_PATH}.log",
    benchmark:
        f"logs/diff_weights/{RUN_PATH}.benchmark.tsv"
    params:
        base=get_base_weights,
        weights=get_external_weights,
        selection=get_external_selection,
        methods=get_config("analysis", "methods"),
        alpha=get_config("analysis", "bema", "alpha"),
        a=get_config("analysis", "gb", "a"),
        beta=get_config("analysis", "beta"),
        heavy_tail=get_config("analysis", "heavy_tail"),
        reshape=get_config("analysis", "reshape"),
        device=get_config("analysis", "device"),
        code=get_code("diff_weights"),
    threads: 1
    resources:
        runtime=60,
        mem_mb=get_analysis_mem_mb,
    conda:
        "../../envs/torch.yaml"
    script:
        "../../scripts/diff_weights.py"
