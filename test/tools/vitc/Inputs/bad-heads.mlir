module {
  func.func @vit(%x: tensor<1x3x4xf32>) -> tensor<1x3x4xf32> {
    %y = vit.attention_core %x, %x, %x num_heads = 3 : tensor<1x3x4xf32>
    return %y : tensor<1x3x4xf32>
  }
}
