# Each layer is decomposed once per run. Studies that test universality get the singular vectors
# too, tested against the Porter-Thomas law in the same pass (extract_spectra_and_vectors). Runs
# that correlate Ave_w with the keep-top-s accuracy also get the random controls of their prune layer.


rule extract_spectra:
    wildcard_constraints:
        study=SPECTRA_ONLY_STUDIES,
    input:
        final=f"{RUN_DIR}/model/final.pt",
        init=f"{RUN_DIR}/model/init.pt",
    output:
        spectra=f"{RUN_DIR}/spectra.parquet",
    log:
        f"logs/extract_spectra/{RUN_PATH}.log",
    benchmark:
        f"logs/extract_spectra/{RUN_PATH}.benchmark.tsv"
    params:
        reshape=get_config("analysis", "reshape"),
        porter_thomas_window=get_porter_thomas_window,
        device=get_config("analysis", "device"),
        control_layer=get_control_layer,
        code=get_code("extract_spectra"),
    threads: 1
    resources:
        runtime=15,
        mem_mb=get_analysis_mem_mb,
    group:
        "analysis"
    conda:
        "../../envs/analysis.yaml"
    script:
        "../../scripts/extract_spectra.py"


use rule extract_spectra as extract_spectra_and_vectors with:
    wildcard_constraints:
        study=VECTOR_STUDIES,
        variant=VECTOR_VARIANTS,
    output:
        spectra=f"{RUN_DIR}/spectra.parquet",
        porter_thomas=f"{RUN_DIR}/porter_thomas.parquet",
    log:
        f"logs/extract_spectra_and_vectors/{RUN_PATH}.log",
    benchmark:
        f"logs/extract_spectra_and_vectors/{RUN_PATH}.benchmark.tsv"


rule extract_weights_part:
    # One job per `layers_per_job` layers of a weights file (external `weights:` source): tensors are
    # loaded one at a time (memory-mapped), so memory follows the largest layer, not the model.
    wildcard_constraints:
        variant=WEIGHTS,
    input:
        weights=get_weights_files,
    output:
        spectra=f"{RUN_DIR}/parts/spectra_{{part}}.parquet",
        porter_thomas=f"{RUN_DIR}/parts/porter_thomas_{{part}}.parquet",
    log:
        f"logs/extract_weights_part/{RUN_PATH}/part{{part}}.log",
    benchmark:
        f"logs/extract_weights_part/{RUN_PATH}/part{{part}}.benchmark.tsv"
    params:
        spec=get_external_spec,
        names=get_weights_part,
        reshape=get_config("analysis", "reshape"),
        porter_thomas_window=get_config("analysis", "universality", "window"),
        device=get_config("analysis", "device"),
        code=get_code("extract_weights_part"),
    threads: 1
    resources:
        runtime=60,
        mem_mb=get_analysis_mem_mb,
    conda:
        "../../envs/torch.yaml"
    script:
        "../../scripts/extract_weights_part.py"


rule gather_spectra:
    wildcard_constraints:
        variant=WEIGHTS,
    input:
        spectra=get_weights_part_files("spectra"),
        porter_thomas=get_weights_part_files("porter_thomas"),
    output:
        spectra=f"{RUN_DIR}/spectra.parquet",
        porter_thomas=f"{RUN_DIR}/porter_thomas.parquet",
    log:
        f"logs/gather_spectra/{RUN_PATH}.log",
    params:
        code=get_code("gather_spectra"),
    threads: 1
    resources:
        runtime=10,
        mem_mb=4000,
    localrule: True
    conda:
        "../../envs/analysis.yaml"
    script:
        "../../scripts/gather_spectra.py"
