import DeepGEMMCLI

DeepGEMMCommand.prepareProcess()
DeepGEMMCommand.main()
