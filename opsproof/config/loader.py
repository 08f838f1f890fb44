DEFAULT_CONFIG_NAME = "opsproof.yaml"
LoadedEnvironment = load_environment = None
