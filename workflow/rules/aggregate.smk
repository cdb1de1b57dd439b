rule aggregate_table:
    input:
        unpack(get_aggregate_inputs),
    output:
        parquet=report(
            "results/tables/{study}/{table}.parquet",
            caption="../report/table.rst",
            category="Tables",
            subcategory="{study}",
            labels={"study": "{study}", "table": "{table}"},
        ),
        csv="results/tables/{study}/{table}.csv",
        markdown="results/tables/{study}/{table}.md",
    log:
        "logs/aggregate_table/{study}/{table}.log",
    params:
        table="{table}",
        reason_rows=get_table_reason_rows,
        layer=get_table_layer,
        code=get_code("aggregate_table"),
    threads: 1
    resources:
        runtime=10,
        mem_mb=4000,
    localrule: True
    conda:
        "../../envs/analysis.yaml"
    script:
        "../../scripts/aggregate_table.py"


rule aggregate_spike_counts:
    input:
        unpack(get_spike_count_inputs),
    output:
        counts=report(
            "results/tables/{study}/spike_counts.parquet",
            caption="../report/spike_counts.rst",
            category="Spike-count sweep",
            labels={"study": "{study}", "table": "spike counts"},
        ),
        counts_csv="results/tables/{study}/spike_counts.csv",
        counts_md="results/tables/{study}/spike_counts.md",
        growth=report(
            "results/tables/{study}/spike_growth.parquet",
            caption="../report/spike_growth.rst",
            category="Spike-count sweep",
            labels={"study": "{study}", "table": "growth law"},
        ),
        growth_csv="results/tables/{study}/spike_growth.csv",
        growth_md="results/tables/{study}/spike_growth.md",
    log:
        "logs/aggregate_spike_counts/{study}.log",
    params:
        widths=get_variant_widths,
        code=get_code("aggregate_spike_counts"),
    threads: 1
    resources:
        runtime=10,
        mem_mb=4000,
    localrule: True
    conda:
        "../../envs/analysis.yaml"
    script:
        "../../scripts/aggregate_spike_counts.py"


rule write_summary:
    input:
        tables=get_summary_tables,
        fits=get_summary_fits,
    output:
        summary=report(
            "results/summary.md",
            caption="../report/summary.rst",
            category="Summary",
            labels={"file": "summary.md"},
        ),
    log:
        "logs/write_summary/summary.log",
    params:
        studies=get_config("studies"),
        sweeps=get_config("sweeps"),
        external=get_config("external"),
        code=get_code("write_summary"),
    threads: 1
    resources:
        runtime=10,
        mem_mb=2000,
    localrule: True
    conda:
        "../../envs/analysis.yaml"
    script:
        "../../scripts/write_summary.py"
