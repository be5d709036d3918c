<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>AdvancedFields</name>
    <message>
        <location filename="../../wan22_desktop/gui/widgets/advanced_fields.py" line="17" />
        <source>Advanced</source>
        <translation>高级</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/widgets/advanced_fields.py" line="21" />
        <source>custom</source>
        <translation>自定义</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/widgets/advanced_fields.py" line="42" />
        <source>auto</source>
        <translation>自动</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/widgets/advanced_fields.py" line="43" />
        <source>on</source>
        <translation>开</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/widgets/advanced_fields.py" line="44" />
        <source>off</source>
        <translation>关</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/widgets/advanced_fields.py" line="49" />
        <source>all that help</source>
        <translation>全部可用</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/widgets/advanced_fields.py" line="53" />
        <location filename="../../wan22_desktop/gui/widgets/advanced_fields.py" line="71" />
        <source>Guidance (high-noise expert)</source>
        <translation>引导强度（高噪声专家）</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/widgets/advanced_fields.py" line="54" />
        <source>Guidance (low-noise expert)</source>
        <translation>引导强度（低噪声专家）</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/widgets/advanced_fields.py" line="56" />
        <source>Steps</source>
        <translation>步数</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/widgets/advanced_fields.py" line="59" />
        <source>Shift</source>
        <translation>偏移（shift）</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/widgets/advanced_fields.py" line="60" />
        <source>Solver</source>
        <translation>求解器</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/widgets/advanced_fields.py" line="61" />
        <source>Offload model to CPU</source>
        <translation>模型卸载到 CPU</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/widgets/advanced_fields.py" line="62" />
        <source>bf16 weights</source>
        <translation>bf16 权重</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/widgets/advanced_fields.py" line="63" />
        <source>T5 on CPU</source>
        <translation>T5 在 CPU 上运行</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/widgets/advanced_fields.py" line="64" />
        <source>GPUs</source>
        <translation>GPU 数量</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/widgets/advanced_fields.py" line="71" />
        <source>Guidance</source>
        <translation>引导强度</translation>
    </message>
</context>
<context>
    <name>App</name>
    <message>
        <location filename="../../wan22_desktop/gui/app.py" line="107" />
        <source>Wan22 Desktop is already open for this data folder.</source>
        <translation>Wan22 Desktop 已经在使用这个数据文件夹。</translation>
    </message>
</context>
<context>
    <name>GenerateView</name>
    <message>
        <location filename="../../wan22_desktop/gui/views/generate.py" line="49" />
        <source>720p landscape</source>
        <translation>720p 横屏</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/generate.py" line="50" />
        <source>720p portrait</source>
        <translation>720p 竖屏</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/generate.py" line="51" />
        <source>480p landscape</source>
        <translation>480p 横屏</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/generate.py" line="52" />
        <source>480p portrait</source>
        <translation>480p 竖屏</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/generate.py" line="108" />
        <source>Auto (let the planner choose)</source>
        <translation>自动（由规划器选择）</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/generate.py" line="109" />
        <source>Text → Video (A14B)</source>
        <translation>文生视频（A14B）</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/generate.py" line="110" />
        <source>Image → Video (A14B)</source>
        <translation>图生视频（A14B）</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/generate.py" line="111" />
        <source>Text/Image → Video (5B)</source>
        <translation>文/图生视频（5B）</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/generate.py" line="119" />
        <source>Describe the video: subject, action, scene, style…</source>
        <translation>描述视频：主体、动作、场景、风格……</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/generate.py" line="126" />
        <source>Auto</source>
        <translation>自动</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/generate.py" line="127" />
        <source>Language of the inserted phrases (Auto: the prompt's language)</source>
        <translation>插入短语的语言（自动：跟随提示词的语言）</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/generate.py" line="131" />
        <source>Use my own negative prompt</source>
        <translation>使用自定义负向提示词</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/generate.py" line="136" />
        <source>Negative prompt (official default)</source>
        <translation>负向提示词（官方默认）</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/generate.py" line="149" />
        <source> s</source>
        <translation> 秒</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/generate.py" line="154" />
        <source> frames</source>
        <translation> 帧</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/generate.py" line="158" />
        <source>Draft (fast preview)</source>
        <translation>草稿（快速预览）</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/generate.py" line="158" />
        <source>Standard</source>
        <translation>标准</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/generate.py" line="159" />
        <source>Official (best)</source>
        <translation>官方（最佳）</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/generate.py" line="165" />
        <source>Random</source>
        <translation>随机</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/generate.py" line="173" />
        <source>Roll</source>
        <translation>掷骰</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/generate.py" line="174" />
        <source>Roll a new seed</source>
        <translation>随机生成一个新种子</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/generate.py" line="181" />
        <source>Extend the prompt with an LLM</source>
        <translation>用大模型扩写提示词</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/generate.py" line="185" />
        <source>Local Qwen</source>
        <translation>本地 Qwen</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/generate.py" line="186" />
        <source>DashScope (online)</source>
        <translation>DashScope（在线）</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/generate.py" line="189" />
        <source>Chinese</source>
        <translation>中文</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/generate.py" line="190" />
        <source>English</source>
        <translation>英文</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/generate.py" line="203" />
        <source>consecutive seeds</source>
        <translation>连续种子</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/generate.py" line="204" />
        <source>random seeds</source>
        <translation>随机种子</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/generate.py" line="207" />
        <source>videos with</source>
        <translation>个视频，使用</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/generate.py" line="219" />
        <source>Task</source>
        <translation>任务</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/generate.py" line="221" />
        <source>Prompt</source>
        <translation>提示词</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/generate.py" line="223" />
        <source>Style</source>
        <translation>风格</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/generate.py" line="225" />
        <source>Size</source>
        <translation>尺寸</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/generate.py" line="226" />
        <source>Duration</source>
        <translation>时长</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/generate.py" line="227" />
        <source>Quality</source>
        <translation>质量</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/generate.py" line="228" />
        <source>Seed</source>
        <translation>种子</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/generate.py" line="229" />
        <source>Prompt extension</source>
        <translation>提示词扩写</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/generate.py" line="230" />
        <source>Batch</source>
        <translation>批量</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/generate.py" line="244" />
        <source>Start image</source>
        <translation>首帧图像</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/generate.py" line="253" />
        <source>Generate now</source>
        <translation>立即生成</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/generate.py" line="255" />
        <source>Put this job at the front of the queue</source>
        <translation>把这个任务放到队列最前面</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/generate.py" line="259" />
        <source>Save changes</source>
        <translation>保存修改</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/generate.py" line="261" />
        <source>Cancel editing</source>
        <translation>取消编辑</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/generate.py" line="428" />
        <source>at %1 fps</source>
        <translation>（%1 fps）</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/generate.py" line="430" />
        <source>Start image (required)</source>
        <translation>首帧图像（必需）</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/generate.py" line="431" />
        <source>Start image (optional)</source>
        <translation>首帧图像（可选）</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/generate.py" line="432" />
        <source>Start image (not used by this task)</source>
        <translation>首帧图像（此任务不使用）</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/generate.py" line="549" />
        <source>Output: %1×%2 (%3)</source>
        <translation>输出：%1×%2（%3）</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/generate.py" line="573" />
        <source>Add to queue</source>
        <translation>加入队列</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/generate.py" line="574" />
        <source>Add %1 to queue</source>
        <translation>加入队列（%1 个）</translation>
    </message>
    <message numerus="yes">
        <location filename="../../wan22_desktop/gui/views/generate.py" line="596" />
        <source>Queued %n job(s)</source>
        <translation>
            <numerusform>已加入 %n 个任务</numerusform></translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/generate.py" line="613" />
        <source>Job %1 updated</source>
        <translation>任务 %1 已更新</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/generate.py" line="622" />
        <source>Editing queued job %1</source>
        <translation>正在编辑排队中的任务 %1</translation>
    </message>
</context>
<context>
    <name>ImageDropZone</name>
    <message>
        <location filename="../../wan22_desktop/gui/widgets/image_drop.py" line="45" />
        <source>Choose image…</source>
        <translation>选择图像…</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/widgets/image_drop.py" line="46" />
        <source>Remove</source>
        <translation>移除</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/widgets/image_drop.py" line="77" />
        <source>Drop a start image here</source>
        <translation>把首帧图像拖到这里</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/widgets/image_drop.py" line="90" />
        <source>Cannot read %1</source>
        <translation>无法读取 %1</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/widgets/image_drop.py" line="97" />
        <source>Choose a start image</source>
        <translation>选择首帧图像</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/widgets/image_drop.py" line="98" />
        <source>Images (%1)</source>
        <translation>图像（%1）</translation>
    </message>
</context>
<context>
    <name>JobTableModel</name>
    <message>
        <location filename="../../wan22_desktop/gui/queue_model.py" line="29" />
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/queue_model.py" line="29" />
        <source>Prompt</source>
        <translation>提示词</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/queue_model.py" line="30" />
        <source>Task</source>
        <translation>任务</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/queue_model.py" line="30" />
        <source>Progress</source>
        <translation>进度</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/queue_model.py" line="31" />
        <source>Phase</source>
        <translation>阶段</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/queue_model.py" line="31" />
        <source>Step</source>
        <translation>步</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/queue_model.py" line="32" />
        <source>ETA</source>
        <translation>剩余时间</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/queue_model.py" line="32" />
        <source>Seed</source>
        <translation>种子</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/queue_model.py" line="35" />
        <source>Queued</source>
        <translation>排队中</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/queue_model.py" line="35" />
        <source>Running</source>
        <translation>运行中</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/queue_model.py" line="36" />
        <source>Done</source>
        <translation>完成</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/queue_model.py" line="36" />
        <source>Failed</source>
        <translation>失败</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/queue_model.py" line="37" />
        <source>Cancelled</source>
        <translation>已取消</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/queue_model.py" line="37" />
        <source>Interrupted</source>
        <translation>已中断</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/queue_model.py" line="43" />
        <source>loading model</source>
        <translation>加载模型</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/queue_model.py" line="44" />
        <source>extending prompt</source>
        <translation>扩写提示词</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/queue_model.py" line="45" />
        <source>encoding text</source>
        <translation>编码文本</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/queue_model.py" line="46" />
        <source>sampling</source>
        <translation>采样</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/queue_model.py" line="47" />
        <source>decoding</source>
        <translation>解码</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/queue_model.py" line="48" />
        <source>saving</source>
        <translation>保存</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/queue_model.py" line="158" />
        <source>Cancelling…</source>
        <translation>正在取消…</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/queue_model.py" line="167" />
        <source>s</source>
        <translation>秒</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/queue_model.py" line="167" />
        <source>min</source>
        <translation>分</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/queue_model.py" line="167" />
        <source>h</source>
        <translation>小时</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <location filename="../../wan22_desktop/gui/main_window.py" line="49" />
        <source>Wan22 Desktop</source>
        <translation>Wan22 Desktop</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/main_window.py" line="120" />
        <source>The %1 view could not start: %2</source>
        <translation>“%1”页面无法启动：%2</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/main_window.py" line="122" />
        <source>the details are in the log file</source>
        <translation>详细信息见日志文件</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/main_window.py" line="150" />
        <source>Queue: %1 running, %2 waiting</source>
        <translation>队列：%1 个运行中，%2 个等待</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/main_window.py" line="152" />
        <source> (paused)</source>
        <translation>（已暂停）</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/main_window.py" line="168" />
        <source>Runner: on</source>
        <translation>运行器：运行中</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/main_window.py" line="169" />
        <source>Runner: another process</source>
        <translation>运行器：其他进程</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/main_window.py" line="170" />
        <source>Runner: stopped</source>
        <translation>运行器：已停止</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/main_window.py" line="171" />
        <source>Runner: not installed</source>
        <translation>运行器：未安装</translation>
    </message>
</context>
<context>
    <name>Notifier</name>
    <message>
        <location filename="../../wan22_desktop/gui/notifier.py" line="39" />
        <source>Unexpected error: %1</source>
        <translation>意外错误：%1</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/notifier.py" line="40" />
        <source>the details are in the log file</source>
        <translation>详细信息见日志文件</translation>
    </message>
</context>
<context>
    <name>Options</name>
    <message>
        <location filename="../../wan22_desktop/gui/views/settings.py" line="45" />
        <source>Draft</source>
        <translation>草稿</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/settings.py" line="45" />
        <source>Standard</source>
        <translation>标准</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/settings.py" line="46" />
        <source>Official</source>
        <translation>官方</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/settings.py" line="46" />
        <source>System</source>
        <translation>跟随系统</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/settings.py" line="47" />
        <source>Light</source>
        <translation>浅色</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/settings.py" line="47" />
        <source>Dark</source>
        <translation>深色</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/settings.py" line="48" />
        <source>Local Qwen</source>
        <translation>本地 Qwen</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/settings.py" line="49" />
        <source>DashScope (online)</source>
        <translation>DashScope（在线）</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/settings.py" line="50" />
        <source>Chinese</source>
        <translation>中文</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/settings.py" line="50" />
        <source>English</source>
        <translation>英文</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/settings.py" line="51" />
        <source>Hugging Face</source>
        <translation>Hugging Face</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/settings.py" line="51" />
        <source>ModelScope</source>
        <translation>ModelScope（魔搭）</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/settings.py" line="55" />
        <source>Task selected when the app starts</source>
        <translation>启动时选中的任务</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/settings.py" line="56" />
        <source>Quality preset for new jobs</source>
        <translation>新任务的质量预设</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/settings.py" line="57" />
        <source>Folder for finished videos (empty: the default)</source>
        <translation>成品视频文件夹（留空：默认位置）</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/settings.py" line="58" />
        <source>Folder for downloaded models (empty: the default)</source>
        <translation>模型下载文件夹（留空：默认位置）</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/settings.py" line="59" />
        <source>Interface language</source>
        <translation>界面语言</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/settings.py" line="60" />
        <source>Colour theme</source>
        <translation>颜色主题</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/settings.py" line="61" />
        <source>Notify when a job finishes or fails</source>
        <translation>任务完成或失败时通知</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/settings.py" line="62" />
        <source>Keep the computer awake while jobs run</source>
        <translation>任务运行时阻止电脑休眠</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/settings.py" line="63" />
        <source>Extend prompts with an LLM by default</source>
        <translation>默认用大模型扩写提示词</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/settings.py" line="64" />
        <source>Prompt extension backend</source>
        <translation>提示词扩写方式</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/settings.py" line="65" />
        <source>Prompt extension model (empty: the default)</source>
        <translation>提示词扩写模型（留空：默认）</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/settings.py" line="66" />
        <source>Language of extended prompts</source>
        <translation>扩写后提示词的语言</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/settings.py" line="67" />
        <source>Where models are downloaded from</source>
        <translation>模型下载来源</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/settings.py" line="68" />
        <source>Hugging Face mirror URL (empty: huggingface.co)</source>
        <translation>Hugging Face 镜像地址（留空：huggingface.co）</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/settings.py" line="69" />
        <source>Try the other source when a download fails</source>
        <translation>下载失败时尝试另一个来源</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/settings.py" line="70" />
        <source>Times a job is retried after a crash before it is marked interrupted</source>
        <translation>任务崩溃后重试的次数，超过则标记为中断</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/settings.py" line="71" />
        <source>A job is treated as hung when a step takes this many times longer than expected</source>
        <translation>单步耗时超过预期的多少倍时视为卡死</translation>
    </message>
</context>
<context>
    <name>PlaceholderView</name>
    <message>
        <location filename="../../wan22_desktop/gui/widgets/placeholder.py" line="12" />
        <source>%1 is not available in this build.</source>
        <translation>此版本中暂无“%1”。</translation>
    </message>
</context>
<context>
    <name>PlanPanel</name>
    <message>
        <location filename="../../wan22_desktop/gui/widgets/plan_panel.py" line="17" />
        <source>Plan on this machine</source>
        <translation>本机运行计划</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/widgets/plan_panel.py" line="27" />
        <source>Checking this machine's GPUs…</source>
        <translation>正在检测本机 GPU…</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/widgets/plan_panel.py" line="32" />
        <source>Task</source>
        <translation>任务</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/widgets/plan_panel.py" line="35" />
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/widgets/plan_panel.py" line="36" />
        <source>Checkpoint</source>
        <translation>模型文件</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/widgets/plan_panel.py" line="36" />
        <source>not installed</source>
        <translation>未安装</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/widgets/plan_panel.py" line="38" />
        <source>CPU (tiny test model)</source>
        <translation>CPU（微型测试模型）</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/widgets/plan_panel.py" line="40" />
        <source>%1 GPUs, Ulysses %2</source>
        <translation>%1 块 GPU，Ulysses %2</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/widgets/plan_panel.py" line="42" />
        <source>1 GPU</source>
        <translation>1 块 GPU</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/widgets/plan_panel.py" line="43" />
        <source>Runs on</source>
        <translation>运行于</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/widgets/plan_panel.py" line="44" />
        <source>offload</source>
        <translation>卸载</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/widgets/plan_panel.py" line="45" />
        <source>bf16 weights</source>
        <translation>bf16 权重</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/widgets/plan_panel.py" line="46" />
        <source>T5 on CPU</source>
        <translation>T5 在 CPU 上运行</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/widgets/plan_panel.py" line="47" />
        <source>FSDP</source>
        <translation>FSDP</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/widgets/plan_panel.py" line="48" />
        <source>Memory savers</source>
        <translation>省显存选项</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/widgets/plan_panel.py" line="48" />
        <source>none</source>
        <translation>无</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/widgets/plan_panel.py" line="49" />
        <source>Expected memory</source>
        <translation>预计内存</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/widgets/plan_panel.py" line="50" />
        <source>~%1 GiB VRAM per GPU, ~%2 GiB RAM</source>
        <translation>每块 GPU 约 %1 GiB 显存，约 %2 GiB 内存</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/widgets/plan_panel.py" line="54" />
        <source>Output</source>
        <translation>输出</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/widgets/plan_panel.py" line="57" />
        <source>Length</source>
        <translation>长度</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/widgets/plan_panel.py" line="57" />
        <source>%1 frames, %2 s at %3 fps</source>
        <translation>%1 帧，%2 秒（%3 fps）</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/widgets/plan_panel.py" line="62" />
        <source>s</source>
        <translation>秒</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/widgets/plan_panel.py" line="62" />
        <source>min</source>
        <translation>分</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/widgets/plan_panel.py" line="62" />
        <source>h</source>
        <translation>小时</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/widgets/plan_panel.py" line="63" />
        <source>Estimated time</source>
        <translation>预计耗时</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/widgets/plan_panel.py" line="79" />
        <source>Time is an estimate scaled from the official timings, model loading not included.</source>
        <translation>耗时按官方测速数据推算，仅供参考，不含模型加载时间。</translation>
    </message>
</context>
<context>
    <name>QueueView</name>
    <message>
        <location filename="../../wan22_desktop/gui/views/queue.py" line="110" />
        <location filename="../../wan22_desktop/gui/views/queue.py" line="229" />
        <source>Pause queue</source>
        <translation>暂停队列</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/queue.py" line="113" />
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/queue.py" line="115" />
        <source>Retry</source>
        <translation>重试</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/queue.py" line="117" />
        <source>Edit…</source>
        <translation>编辑…</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/queue.py" line="119" />
        <source>Remove</source>
        <translation>移除</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/queue.py" line="121" />
        <source>Move up</source>
        <translation>上移</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/queue.py" line="123" />
        <source>Move down</source>
        <translation>下移</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/queue.py" line="125" />
        <source>Release GPU</source>
        <translation>释放 GPU</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/queue.py" line="128" />
        <source>Cancel requested</source>
        <translation>已请求取消</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/queue.py" line="129" />
        <source>Job queued again</source>
        <translation>任务已重新排队</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/queue.py" line="130" />
        <source>Job removed</source>
        <translation>任务已移除</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/queue.py" line="154" />
        <source>Now rendering</source>
        <translation>正在渲染</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/queue.py" line="188" />
        <source>Stop the worker after the current job to free GPU memory</source>
        <translation>当前任务结束后停止工作进程，释放显存</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/queue.py" line="189" />
        <source>Available when this window runs the queue</source>
        <translation>仅当本窗口运行队列时可用</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/queue.py" line="229" />
        <source>Resume queue</source>
        <translation>恢复队列</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/queue.py" line="240" />
        <source>This window runs the queue.</source>
        <translation>本窗口正在运行队列。</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/queue.py" line="243" />
        <source>The queue is run by another process (pid %1 on %2); this window only shows it.</source>
        <translation>队列由另一个进程运行（%2 上的 pid %1），本窗口只显示状态。</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/queue.py" line="246" />
        <source>No runner is working on this queue.</source>
        <translation>当前没有运行器处理这个队列。</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/queue.py" line="257" />
        <source>Nothing is rendering</source>
        <translation>没有正在渲染的任务</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/queue.py" line="266" />
        <source>step %1 of %2</source>
        <translation>第 %1/%2 步</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/queue.py" line="273" />
        <source>Preview appears after the first steps</source>
        <translation>前几步之后会显示预览</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/queue.py" line="318" />
        <source>Queue paused: the running job finishes, no new one starts</source>
        <translation>队列已暂停：当前任务会完成，不再开始新任务</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/queue.py" line="319" />
        <source>Queue resumed</source>
        <translation>队列已恢复</translation>
    </message>
</context>
<context>
    <name>RunnerController</name>
    <message>
        <location filename="../../wan22_desktop/gui/runner_controller.py" line="93" />
        <source>queue runner not installed; showing the queue only</source>
        <translation>未安装队列运行器，仅显示队列</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/runner_controller.py" line="105" />
        <source>The GPU will be released when the current job ends.</source>
        <translation>当前任务结束后将释放 GPU。</translation>
    </message>
</context>
<context>
    <name>SettingsView</name>
    <message>
        <location filename="../../wan22_desktop/gui/views/settings.py" line="35" />
        <source>Folders</source>
        <translation>文件夹</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/settings.py" line="36" />
        <source>New jobs</source>
        <translation>新任务</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/settings.py" line="37" />
        <source>Appearance</source>
        <translation>外观</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/settings.py" line="38" />
        <source>While rendering</source>
        <translation>渲染时</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/settings.py" line="40" />
        <source>Prompt extension</source>
        <translation>提示词扩写</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/settings.py" line="42" />
        <source>Downloads</source>
        <translation>下载</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/settings.py" line="142" />
        <source>Takes effect when the app starts again</source>
        <translation>重新启动应用后生效</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/settings.py" line="146" />
        <source>* takes effect when the app starts again</source>
        <translation>* 重新启动应用后生效</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/settings.py" line="158" />
        <source>changes will not be saved</source>
        <translation>修改不会被保存</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/settings.py" line="195" />
        <source>default</source>
        <translation>默认</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/settings.py" line="208" />
        <source>Choose…</source>
        <translation>选择…</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/settings.py" line="209" />
        <source>Default</source>
        <translation>默认</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/settings.py" line="246" />
        <source>Saved. This takes effect when the app starts again.</source>
        <translation>已保存，重新启动应用后生效。</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/settings.py" line="251" />
        <source>DashScope API key (for online prompt extension)</source>
        <translation>DashScope API 密钥（用于在线扩写提示词）</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/settings.py" line="258" />
        <source>paste a key (sk-…) to store it in the OS keyring</source>
        <translation>粘贴密钥（sk-…），将保存到系统钥匙串</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/settings.py" line="259" />
        <source>Save key</source>
        <translation>保存密钥</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/settings.py" line="261" />
        <source>Remove key</source>
        <translation>删除密钥</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/settings.py" line="263" />
        <source>Test</source>
        <translation>测试</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/settings.py" line="287" />
        <source>In use: %1 from the DASH_API_KEY environment variable</source>
        <translation>正在使用：来自 DASH_API_KEY 环境变量的 %1</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/settings.py" line="289" />
        <source>Stored in the OS keyring: %1</source>
        <translation>已保存在系统钥匙串中：%1</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/settings.py" line="291" />
        <source>No key stored</source>
        <translation>未保存密钥</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/settings.py" line="309" />
        <source>Key saved in the OS keyring.</source>
        <translation>密钥已保存到系统钥匙串。</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/settings.py" line="317" />
        <source>Key removed.</source>
        <translation>密钥已删除。</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/settings.py" line="317" />
        <source>No key was stored.</source>
        <translation>没有已保存的密钥。</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/settings.py" line="325" />
        <source>Testing…</source>
        <translation>正在测试…</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/views/settings.py" line="331" />
        <source>The key works.</source>
        <translation>密钥可用。</translation>
    </message>
</context>
<context>
    <name>StatusArea</name>
    <message>
        <location filename="../../wan22_desktop/gui/widgets/status_area.py" line="26" />
        <source>Dismiss</source>
        <translation>关闭</translation>
    </message>
</context>
<context>
    <name>Tray</name>
    <message>
        <location filename="../../wan22_desktop/gui/tray.py" line="34" />
        <source>Show Wan22 Desktop</source>
        <translation>显示 Wan22 Desktop</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/tray.py" line="35" />
        <source>Quit</source>
        <translation>退出</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/tray.py" line="43" />
        <source>Wan22 Desktop</source>
        <translation>Wan22 Desktop</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/tray.py" line="53" />
        <source>Wan22 Desktop — %1 running, %2 waiting</source>
        <translation>Wan22 Desktop — %1 个运行中，%2 个等待</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/tray.py" line="54" />
        <source> (paused)</source>
        <translation>（已暂停）</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/tray.py" line="57" />
        <source>Queue finished</source>
        <translation>队列已完成</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/tray.py" line="57" />
        <source>All jobs are done.</source>
        <translation>所有任务都已完成。</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/tray.py" line="62" />
        <source>Video ready</source>
        <translation>视频已生成</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/tray.py" line="62" />
        <source>Job %1 finished.</source>
        <translation>任务 %1 已完成。</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/tray.py" line="64" />
        <source>Job failed</source>
        <translation>任务失败</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/tray.py" line="64" />
        <source>Job %1: %2</source>
        <translation>任务 %1：%2</translation>
    </message>
</context>
<context>
    <name>Views</name>
    <message>
        <location filename="../../wan22_desktop/gui/view_registry.py" line="42" />
        <source>Generate</source>
        <translation>生成</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/view_registry.py" line="43" />
        <source>Queue</source>
        <translation>队列</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/view_registry.py" line="44" />
        <source>History</source>
        <translation>历史</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/view_registry.py" line="45" />
        <source>Player</source>
        <translation>播放器</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/view_registry.py" line="46" />
        <source>Models</source>
        <translation>模型</translation>
    </message>
    <message>
        <location filename="../../wan22_desktop/gui/view_registry.py" line="47" />
        <source>Settings</source>
        <translation>设置</translation>
    </message>
</context>
</TS>
