//! The teaching features on the company network: one step explained, steps until the CEO's
//! prediction matches, the diagrams, and brute force against backprop.
//!
//! Run: `cargo run --release -p backprop-teach --example teach_company [OUT_DIR]` — with `OUT_DIR`,
//! also writes `explain.html`, `steps.html`, `company.svg`, `change.svg`, `compare.svg` and
//! `explain.json` and `wide.svg` (a 784-30-10 network) there.

use backprop::{Activation, Cost, NetworkConfig};
use backprop_teach::{
    compare, compare_plot_svg, diagram_svg, render_html, render_steps_html, render_steps_text,
    render_text, CompanyExample, CompareConfig, DiagramOptions, StepsOptions, TextStyle,
};
use std::io::IsTerminal;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let example = CompanyExample::default();
    let colour = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let style = TextStyle::company(colour);
    let explanation = example.explain()?;
    println!("{}", render_text(&explanation, &style));
    let steps = example.explain_steps(&StepsOptions::default())?;
    println!("{}", render_steps_text(&steps, &style));
    let report = compare(&CompareConfig::default())?;
    println!("{}", report.render_text(colour));
    if let Some(folder) = std::env::args().nth(1) {
        let folder = std::path::Path::new(&folder);
        std::fs::create_dir_all(folder)?;
        let roles = example.roles();
        let options = DiagramOptions::default().with_roles(roles.clone());
        let network = explanation.network_before();
        std::fs::write(folder.join("company.svg"), diagram_svg(network, &options)?)?;
        let change = options.clone().with_before(network);
        std::fs::write(
            folder.join("change.svg"),
            diagram_svg(explanation.network_after(), &change)?,
        )?;
        std::fs::write(
            folder.join("explain.html"),
            render_html(&explanation, Some(&roles)),
        )?;
        std::fs::write(
            folder.join("steps.html"),
            render_steps_html(&steps, Some(&roles)),
        )?;
        std::fs::write(folder.join("compare.svg"), compare_plot_svg(&report))?;
        std::fs::write(
            folder.join("explain.json"),
            serde_json::to_string_pretty(&explanation.to_json())?,
        )?;
        // A network too wide to draw in full: its strongest units, and a note for the rest.
        let wide = NetworkConfig::new(&[784, 30, 10], Cost::SoftmaxCrossEntropy)
            .with_hidden_activation(Activation::Sigmoid)
            .with_seed(1)
            .init::<f32>()?;
        let svg = diagram_svg(&wide, &DiagramOptions::default())?;
        std::fs::write(folder.join("wide.svg"), svg)?;
    }
    Ok(())
}
