import DeepGEMMCLI

DeepGEMMCommand.main()
