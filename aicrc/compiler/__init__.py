"""The compiler: syntax -> load -> evaluate -> solve -> emit; each stage imports only earlier ones."""
